"""Import: --to-lake is idempotent by reading identity; the CLI reports and refuses clearly."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glucosestream.cli import main as cli
from glucosestream.ingest.files.formats import parse_file
from glucosestream.ingest.files.importing import LakeWrite, import_parsed, write_to_lake
from glucosestream.ingest.files.parsed_file import ParsedFile
from glucosestream.lake.directory import LocalLakeStorage
from tests.factories import trace
from tests.unit.ingest.support import KEY

FIXTURES = Path(__file__).parents[3] / "fixtures" / "import"


def local_lake(root: Path) -> LocalLakeStorage:
    return LocalLakeStorage(root, "gs-test-lake")


def lake_rows(lake: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in sorted(lake.glob("raw/readings/dt=*/hour=*/*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def test_to_lake_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    parsed = parse_file(
        FIXTURES / "dexcom_clarity_mgdl.csv",
        "auto",
        patient="alex",
        pseudonym_key=KEY,
        tz="Europe/Berlin",
        now_ms=1_800_000_000_000,
    )
    first = import_parsed(parsed, Path("x"), lake=local_lake(tmp_path), now_ms=1_800_000_000_000)
    assert (first.imported, first.already_present) == (144, 0)
    rows = lake_rows(tmp_path)
    assert len(rows) == 144
    assert len({r["event_id"] for r in rows}) == 144
    assert {r["source"] for r in rows} == {"IMPORT"}
    second = import_parsed(parsed, Path("x"), lake=local_lake(tmp_path), now_ms=1_800_000_100_000)
    assert (second.imported, second.already_present) == (0, 144)
    assert lake_rows(tmp_path) == rows


def test_to_lake_skips_identities_already_landed_by_firehose(tmp_path: Path) -> None:
    readings = trace(1, 30)
    assert write_to_lake(readings[:20], local_lake(tmp_path)) == LakeWrite(20, 0)
    # overlapping export: only the new 10
    assert write_to_lake(readings, local_lake(tmp_path)) == LakeWrite(10, 20)
    assert write_to_lake(readings + readings, local_lake(tmp_path)) == LakeWrite(0, 30)
    assert len(lake_rows(tmp_path)) == 30


def test_to_lake_counts_only_identical_readings_as_repeated_copies(tmp_path: Path) -> None:
    # Given a file with 08:05 twice at one value (a copy) and 08:00 twice at two values (a
    # conflict: two readings, of which the first is kept)
    path = tmp_path / "f.csv"
    path.write_text(
        "id,time,gl\nsubject-1,2026-05-01 08:00:00,110\nsubject-1,2026-05-01 08:05:00,115\n"
        "subject-1,2026-05-01 08:00:00,180\nsubject-1,2026-05-01 08:05:00,115\n",
        encoding="utf-8",
    )
    parsed = parse_file(
        path, "csv", patient=None, pseudonym_key=KEY, tz="Europe/Berlin", now_ms=1_800_000_000_000
    )

    report = import_parsed(
        parsed, path, lake=local_lake(tmp_path / "lake"), now_ms=1_800_000_000_000
    )

    # Then the copy is called a copy, and the other value a conflict, never a copy
    assert (report.imported, report.repeated) == (2, 1)
    (line,) = report.lines()
    assert (
        "2 imported to the raw zone, 0 skipped, 1 repeated copies in the file, stored once; "
        in line
    )
    assert "; 1 conflicting readings" in line


def test_to_lake_writes_a_reading_that_conflicts_with_the_lake_and_counts_it(
    tmp_path: Path,
) -> None:
    # Given the id,time,gl fixture already in the lake, and a corrected export of it in which the
    # 06:10 reading (05:10 UTC) says 180 mg/dL instead of 111
    original = (FIXTURES / "readings_id_time_gl.csv").read_text(encoding="utf-8")
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        original.replace(
            "clinic-7/patient-0001,2026-01-05T06:10:00+01:00,111\n",
            "clinic-7/patient-0001,2026-01-05T06:10:00+01:00,180\n",
        ),
        encoding="utf-8",
    )
    assert corrected.read_text(encoding="utf-8") != original
    lake = tmp_path / "lake"

    def parse(path: Path) -> ParsedFile:
        return parse_file(
            path, "csv", patient=None, pseudonym_key=KEY, tz="UTC", now_ms=1_800_000_000_000
        )

    first = import_parsed(
        parse(FIXTURES / "readings_id_time_gl.csv"),
        Path("original.csv"),
        lake=local_lake(lake),
        now_ms=1_800_000_000_000,
    )
    assert (first.imported, first.already_present, first.conflicting_with_lake) == (48, 0, 0)

    # When the corrected export is imported
    second = import_parsed(
        parse(corrected), corrected, lake=local_lake(lake), now_ms=1_800_000_100_000
    )

    # Then the other value is written to raw beside the lake's (as the stream would deliver it,
    # for the conflicting_identities check), counted as a conflict with its example, and never
    # counted as already in the lake
    assert (second.imported, second.already_present, second.conflicting_with_lake) == (1, 47, 1)
    (line,) = second.lines()
    assert (
        "1 imported to the raw zone, 0 skipped, 47 already in the lake, "
        "1 conflicting with the lake (first: 2026-01-05T05:10:00Z 111 vs 180 mg/dL)"
    ) in line
    rows = lake_rows(lake)
    assert len(rows) == 49
    values_by_event: dict[object, list[object]] = {}
    for row in rows:
        values_by_event.setdefault(row["event_id"], []).append(row["glucose_mg_dl"])
    assert [sorted(v) for v in values_by_event.values() if len(v) > 1] == [[111, 180]]

    # And importing the corrected export again finds both values there: nothing is written
    third = import_parsed(
        parse(corrected), corrected, lake=local_lake(lake), now_ms=1_800_000_200_000
    )
    assert (third.imported, third.already_present, third.conflicting_with_lake) == (0, 48, 0)
    assert len(lake_rows(lake)) == 49


def test_to_lake_second_import_does_not_claim_it_wrote_the_repeated_copies(
    tmp_path: Path,
) -> None:
    # Given an export that overlaps itself (two readings listed twice), imported once
    path = tmp_path / "overlap.csv"
    rows = (FIXTURES / "readings_id_time_gl.csv").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*rows, *rows[1:3]]) + "\n", encoding="utf-8")
    parsed = parse_file(
        path, "csv", patient=None, pseudonym_key=KEY, tz="UTC", now_ms=1_800_000_000_000
    )
    import_parsed(parsed, path, lake=local_lake(tmp_path / "lake"), now_ms=1_800_000_000_000)

    # When it is imported again
    again = import_parsed(
        parsed, path, lake=local_lake(tmp_path / "lake"), now_ms=1_800_000_100_000
    )

    # Then the summary says nothing was written and does not call the copies written
    (line,) = again.lines()
    assert "0 imported to the raw zone" in line
    assert "48 already in the lake" in line
    assert "2 repeated copies in the file, stored once" in line
    assert "written" not in line


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def local_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GS_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_cli_import_to_lake_reports_counts_and_is_idempotent(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / "libreview_us_mgdl.csv"
    args = ("import", str(path), "--patient", "alex", "--tz", "America/New_York", "--to-lake")
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert (
        "libre export, 215 rows read, 212 readings, 212 imported to the raw zone, 3 skipped" in out
    )
    assert "skipped      1: insulin event, not glucose" in out
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "0 imported to the raw zone" in out
    assert "212 already in the lake" in out
    assert len(lake_rows(local_env / "state" / "lake")) == 212


def test_cli_malformed_file_imports_nothing(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = local_env / "export.json"
    broken.write_bytes((FIXTURES / "nightscout_entries.json").read_bytes()[:3000])
    code, _, err = run(capsys, "import", str(broken), "--patient", "alex", "--to-lake")
    assert code == 2
    assert "not valid JSON" in err
    assert err.strip().endswith("(nothing imported)")
    assert err.count("\n") == 1
    assert not (local_env / "state" / "lake").exists()


def test_cli_import_through_the_stream_needs_the_stack(
    local_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "readings_id_time_gl.csv", local_env / "r.csv")
    code, _, err = run(capsys, "import", str(local_env / "r.csv"))
    assert code == 2
    assert "the local stack is not running" in err
    assert "--to-lake" in err


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["import"], "the following arguments are required: file"),
        (["import", "f.csv", "--format", "xls"], "invalid choice: 'xls'"),
        (["import", "f.csv", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
        (
            ["import", "f.json", "--patient", ""],
            "argument --patient: the source patient id is empty",
        ),
        (["api", "serve", "--port", "80"], "not a port within 1024-65535"),
        (["api"], "required: api_command"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason(
    argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert reason in capsys.readouterr().err


def test_api_hash_key_prints_the_sha256(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-random-api-key-123\n"))
    code, out, _ = run(capsys, "api", "hash-key")
    assert code == 0
    assert out.strip() == hashlib.sha256(b"a-long-random-api-key-123").hexdigest()


def test_api_serve_refuses_a_short_nightscout_secret(
    local_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_INGEST_NIGHTSCOUT_SECRET", "tooshort")
    code, _, err = run(capsys, "api", "serve", "--port", "4999")
    assert code == 2
    assert "must be at least 12 characters (got 8)" in err


def test_api_openapi_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code, out, _ = run(capsys, "api", "openapi")
    assert code == 0
    assert "/api/v1/entries" in json.loads(out)["paths"]


def test_to_lake_is_local_only(
    local_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GS_MODE", "aws")
    monkeypatch.setenv("GS_PSEUDONYM_KEY", "k" * 32)
    path = str(FIXTURES / "readings_id_time_gl.csv")
    code, _, err = run(capsys, "import", path, "--to-lake")
    assert code == 2
    assert "--to-lake writes the local lake" in err
