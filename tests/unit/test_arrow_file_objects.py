"""No module hands pyarrow a Python file object (``io.BytesIO``) to read or write Parquet/JSON.

Why: pyarrow reads such an object through Python callbacks from its own I/O threads, and one of
those threads may still release it while the interpreter exits; glibc then unwinds a C++ frame
that may not throw and the process aborts after its work is done (``terminate called without
an active exception``, exit 134). ``glucosestream import --to-lake`` into a partition that
already held files ended so in 6-8 of 30 runs; with ``pa.BufferReader`` /
``pa.BufferOutputStream`` (C++ only, no callbacks) in 0 of 30. Static, like test_layout: a
process abort is a matter of thread timing, which a test cannot make happen on purpose.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("glucosestream", "consumers", "bokeh_app", "stream", "sfn")
ARROW_FILE_FUNCTIONS = frozenset(
    {
        "read_table",
        "read_schema",
        "read_metadata",
        "ParquetFile",
        "ParquetWriter",
        "write_table",
        "read_json",
        "read_csv",
        "open_csv",
    }
)


def _is_bytes_io(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    return (isinstance(function, ast.Attribute) and function.attr == "BytesIO") or (
        isinstance(function, ast.Name) and function.id == "BytesIO"
    )


def arrow_calls_on_python_files(tree: ast.AST) -> Iterator[int]:
    """Line numbers of pyarrow file calls with an ``io.BytesIO`` among their arguments (made
    in the call, or a name the module binds to one)."""
    bytes_io_names = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_bytes_io(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else None
        if name not in ARROW_FILE_FUNCTIONS:
            continue
        arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
        if any(
            _is_bytes_io(argument)
            or (isinstance(argument, ast.Name) and argument.id in bytes_io_names)
            for argument in arguments
        ):
            yield node.lineno


def _modules() -> list[Path]:
    return sorted(
        path
        for source in SOURCES
        if (ROOT / source).is_dir()
        for path in (ROOT / source).rglob("*.py")
    )


def test_the_rule_finds_a_bytes_io_handed_to_pyarrow() -> None:
    made_in_the_call = "import io, pyarrow.parquet as pq\npq.read_table(io.BytesIO(b''))\n"
    bound_first = "sink = io.BytesIO()\npq.write_table(table, sink)\n"
    arrow_buffer = "pq.read_table(pa.BufferReader(b''))\nsink = pa.BufferOutputStream()\n"
    assert list(arrow_calls_on_python_files(ast.parse(made_in_the_call))) == [2]
    assert list(arrow_calls_on_python_files(ast.parse(bound_first))) == [2]
    assert list(arrow_calls_on_python_files(ast.parse(arrow_buffer))) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pyarrow_reads_and_writes_arrow_buffers_not_python_files(path: Path) -> None:
    found = list(arrow_calls_on_python_files(ast.parse(path.read_text(), str(path))))
    assert not found, f"{path.relative_to(ROOT)}:{found}: use pa.BufferReader/BufferOutputStream"
