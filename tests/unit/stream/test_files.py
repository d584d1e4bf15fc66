"""`simulate --out`: CSV and Avro files, deterministic, never half-written; the truth side file."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import fastavro
import pyarrow.parquet as pq
import pytest

from glucosestream.domain.reading import GlucoseReading
from stream import files
from stream.files import (
    CSV_COLUMNS,
    TRUTH_COLUMNS,
    OutputError,
    iso_utc,
    write_deliveries,
    write_truth,
)
from stream.simulator import CohortConfig, Delivery, TruthRow, ground_truth, simulate

CONFIG = CohortConfig(patients=3, days=0.5, seed=11)


def test_csv_has_the_iglu_columns_first_and_one_row_per_delivery(tmp_path: Path) -> None:
    deliveries = list(simulate(CONFIG))
    path = tmp_path / "cohort.csv"
    assert write_deliveries(iter(deliveries), path, seed=11) == len(deliveries)
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert CSV_COLUMNS[:3] == ("id", "time", "gl")
    assert len(rows) == len(deliveries)
    first = deliveries[0].reading
    assert rows[0]["id"] == first.patient_id
    assert rows[0]["time"] == iso_utc(first.measured_at)
    assert int(rows[0]["gl"]) == first.glucose_mg_dl
    assert rows[0]["event_id"] == first.event_id


def test_iso_utc_keeps_milliseconds() -> None:
    assert iso_utc(1_767_571_200_007) == "2026-01-05T00:00:00.007Z"
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"


def test_avro_file_is_a_standard_container_of_contract_records(tmp_path: Path) -> None:
    deliveries = list(simulate(CONFIG))
    path = tmp_path / "cohort.avro"
    write_deliveries(iter(deliveries), path, seed=11)
    with path.open("rb") as f:
        reader = fastavro.reader(f)
        assert reader.writer_schema["name"] == "io.glucosestream.GlucoseReading"
        records = list(reader)
    assert len(records) == len(deliveries)
    decoded = records[5]
    decoded["measured_at"] = round(decoded["measured_at"].timestamp() * 1000)
    decoded["produced_at"] = round(decoded["produced_at"].timestamp() * 1000)
    assert GlucoseReading.from_record(decoded) == deliveries[5].reading


@pytest.mark.parametrize("suffix", [".csv", ".avro"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, suffix: str) -> None:
    first, second, other = (tmp_path / f"{name}{suffix}" for name in ("a", "b", "c"))
    write_deliveries(simulate(CONFIG), first, seed=11)
    write_deliveries(simulate(CONFIG), second, seed=11)
    other_config = CohortConfig(patients=3, days=0.5, seed=12)
    write_deliveries(simulate(other_config), other, seed=12)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_a_failed_run_leaves_no_file_and_keeps_an_older_one(tmp_path: Path) -> None:
    path = tmp_path / "cohort.csv"
    path.write_text("previous run\n")

    def broken() -> Iterator[Delivery]:
        yield from list(simulate(CONFIG))[:10]
        raise RuntimeError("simulator crashed")

    with pytest.raises(RuntimeError, match="simulator crashed"):
        write_deliveries(broken(), path, seed=11)
    assert path.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.csv"]


@pytest.mark.parametrize(
    ("name", "message"),
    [("cohort.parquet", "must end in .csv or .avro"), ("missing/cohort.csv", "not a directory")],
)
def test_bad_output_paths_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(OutputError, match=message):
        write_deliveries(simulate(CONFIG), tmp_path / name, seed=11)


def test_truth_csv_joins_the_readings_file_on_event_id(tmp_path: Path) -> None:
    readings, truth = tmp_path / "cohort.csv", tmp_path / "truth.csv"
    write_deliveries(simulate(CONFIG), readings, seed=11)
    rows = list(ground_truth(CONFIG))
    assert write_truth(iter(rows), truth) == len(rows)
    with readings.open() as f:
        delivered = {r["event_id"]: r for r in csv.DictReader(f)}
    with truth.open() as f:
        written = list(csv.DictReader(f))
    assert tuple(written[0]) == TRUTH_COLUMNS
    assert len(written) == len(rows)
    assert {r["event_id"] for r in written} == set(delivered)
    for line, row in zip(written, rows, strict=True):
        reading = delivered[line["event_id"]]
        assert (line["id"], line["time"], line["gl"]) == (
            reading["id"],
            reading["time"],
            reading["gl"],
        )
        assert line["status"] == reading["status"] == row.status.value
        assert float(line["interstitial_mg_dl"]) == pytest.approx(row.interstitial_mg_dl, abs=0.05)
        assert float(line["plasma_mg_dl"]) == pytest.approx(row.plasma_mg_dl, abs=0.05)
        assert line["artefact"] == row.artefact.value
        assert line["after_signal_loss"] == ("true" if row.after_signal_loss else "false")


def test_truth_parquet_holds_every_row_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = list(ground_truth(CONFIG))
    monkeypatch.setattr(files, "TRUTH_BATCH_ROWS", 100)
    assert len(rows) > 2 * 100
    path = tmp_path / "truth.parquet"
    assert write_truth(iter(rows), path) == len(rows)
    table = pq.read_table(path)
    assert tuple(table.column_names) == TRUTH_COLUMNS
    assert table.num_rows == len(rows)
    assert table.column("event_id").to_pylist() == [r.event_id for r in rows]
    assert table.column("gl").to_pylist() == [r.glucose_mg_dl for r in rows]
    times = table.column("time").cast("int64").to_pylist()
    assert times == [r.measured_at for r in rows]
    assert table.column("artefact").to_pylist() == [r.artefact.value for r in rows]
    assert table.column("interstitial_mg_dl").to_pylist() == [r.interstitial_mg_dl for r in rows]


def test_an_empty_truth_parquet_keeps_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "truth.parquet"
    assert write_truth(iter(list[TruthRow]()), path) == 0
    assert tuple(pq.read_table(path).column_names) == TRUTH_COLUMNS


def test_truth_file_must_be_csv_or_parquet(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"must end in \.csv or \.parquet"):
        write_truth(ground_truth(CONFIG), tmp_path / "truth.avro")
