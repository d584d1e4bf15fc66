"""The lake storage port on a directory (local mode)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glucosestream.lake import LocalLakeStorage
from glucosestream.ports.lake_storage import LakeObject


def test_write_list_read_delete(tmp_path: Path) -> None:
    lake = LocalLakeStorage(tmp_path, "gs-dev-lake")
    lake.write_bytes("work/grid/in/chunk=00001/b.parquet", b"bb")
    lake.write_bytes("work/grid/in/chunk=00000/a.parquet", b"a")
    lake.write_bytes("work/grid/input.txt", b"not under in/")
    (tmp_path / "work/grid/in/chunk=00000/.a.parquet.partial-0f").write_bytes(b"half")
    assert list(lake.list("work/grid/in/")) == [
        LakeObject("work/grid/in/chunk=00000/a.parquet", 1),
        LakeObject("work/grid/in/chunk=00001/b.parquet", 2),
    ]
    assert [o.key for o in lake.list("work/grid/in")] == [
        "work/grid/in/chunk=00000/a.parquet",
        "work/grid/in/chunk=00001/b.parquet",
        "work/grid/input.txt",
    ]
    assert list(lake.list("nothing/")) == []
    lake.write_bytes("work/grid/in/chunk=00001/b.parquet", b"new")
    assert lake.read_bytes("work/grid/in/chunk=00001/b.parquet") == b"new"
    lake.delete(["work/grid/in/chunk=00001/b.parquet", "work/missing"])
    assert [o.key for o in lake.list("work/grid/in/")] == ["work/grid/in/chunk=00000/a.parquet"]
    assert lake.uri("work/x") == "s3://gs-dev-lake/work/x"


def test_a_missing_object_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no object s3://gs-dev-lake/marts/none"):
        LocalLakeStorage(tmp_path, "gs-dev-lake").read_bytes("marts/none")


def test_keys_cannot_leave_the_lake(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a lake key"):
        LocalLakeStorage(tmp_path, "gs-dev-lake").write_bytes("../escape", b"")
