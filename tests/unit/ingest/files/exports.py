"""The export fixtures and how the format tests parse them."""

from __future__ import annotations

import shutil
from pathlib import Path

from glucosestream.ingest.files.formats import parse_file
from glucosestream.ingest.files.parsed_file import ParsedFile
from tests.unit.ingest.support import KEY

FIXTURES = Path(__file__).parents[3] / "fixtures" / "import"
NOW_MS = 1_800_000_000_000  # 2027: every fixture is in the past


def parse(
    path: Path, fmt: str = "auto", patient: str | None = "alex", tz: str = "Europe/Berlin"
) -> ParsedFile:
    return parse_file(path, fmt, patient=patient, pseudonym_key=KEY, tz=tz, now_ms=NOW_MS)  # type: ignore[arg-type]


def copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(FIXTURES / name, tmp_path / name))
