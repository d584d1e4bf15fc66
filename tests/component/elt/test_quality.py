"""Data-quality checks (glucosestream.elt.quality, sql/dq/) over crafted lakes built by the ELT."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glucosestream.elt.quality import (
    CheckResult,
    gate,
    load_catalog,
    run_checks,
    write_dq_results,
)
from glucosestream.elt.refresh import run_elt
from glucosestream.elt.tables import CURATED
from glucosestream.lake.raw_zone.schema import parquet_schema
from glucosestream.local.lake import local_lake, table_location
from glucosestream.settings import Settings
from glucosestream.warehouse.sql_text import SQL_DIR
from tests.component.elt.rawdata import MINUTE_MS, Raw, ms, write_raw

DAY = "2024-03-01"
AS_OF = datetime(2024, 3, 3, tzinfo=UTC)


def series(patient: str, start: str, count: int, step: int = 5, **fields: object) -> list[Raw]:
    first = ms(start)
    base = [Raw(patient, first + i * step * MINUTE_MS, 120) for i in range(count)]
    return [dataclasses.replace(r, **fields) for r in base]  # type: ignore[arg-type]


def checked(settings: Settings, dts: list[str] | None = None) -> dict[str, CheckResult]:
    report = run_elt(local_lake(settings))
    parts = report.curated_partitions if dts is None else dts
    return {r.check: r for r in run_checks(local_lake(settings), parts, as_of=AS_OF)}


def one(settings: Settings, check: str, dts: list[str] | None = None) -> CheckResult:
    return checked(settings, dts)[check]


def assert_pass(result: CheckResult) -> None:
    assert (result.status, result.failing_count, result.sample) == ("PASS", 0, ())


def write_raw_rows(
    settings: Settings, name: str, rows: list[dict[str, object]], **kw: object
) -> Path:
    """Raw rows as dicts (to write NULLs or a drifted schema) into dt=2024-03-01/hour=10."""
    directory = settings.lake_dir / settings.names.raw_readings_prefix / f"dt={DAY}" / "hour=10"
    directory.mkdir(parents=True, exist_ok=True)
    schema = kw.get("schema", parquet_schema())
    assert isinstance(schema, pa.Schema)
    path = directory / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def curated_file(settings: Settings, dt: str = DAY) -> Path:
    files = sorted((table_location(settings, CURATED) / f"dt={dt}").glob("*.parquet"))
    assert len(files) == 1
    return files[0]


# ------------------------------------------------------------------------------ the catalog


def test_catalog_declares_every_sql_file_with_the_issue_severities() -> None:
    catalog = load_catalog()
    kinds = {spec.check: spec.kind for spec in catalog.checks}
    sql = {path.stem for path in (SQL_DIR / "dq").glob("*.sql")}
    assert {name for name, kind in kinds.items() if kind == "sql"} == sql
    severities = {spec.check: spec.severity for spec in catalog.checks}
    assert severities["sensor_wear"] == "WARN"
    assert severities["missing_keys"] == "FAIL"
    assert catalog.thresholds["max_readings_per_patient_day"] == pytest.approx(288 * 1.1)
    assert catalog.thresholds["min_wear_percent"] == 70
    assert catalog.thresholds["wear_window_days"] == 14


def test_catalog_rejects_an_undefined_threshold_and_a_bad_severity(tmp_path: Path) -> None:
    document = json.loads((SQL_DIR / "dq" / "checks.json").read_text())
    document["checks"][0]["thresholds"] = ["no_such_threshold"]
    path = tmp_path / "checks.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="undefined thresholds"):
        load_catalog(path)
    document["checks"][0]["thresholds"] = []
    document["checks"][0]["severity"] = "ERROR"
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match="severity"):
        load_catalog(path)


# --------------------------------------------------------------------------- a clean lake


def test_clean_lake_passes_every_check_but_short_wear(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 24) + series("p2", f"{DAY}T10:00", 24))
    write_raw(settings, "b", series("p1", f"{DAY}T10:00", 6))  # redelivered: deduped
    results = checked(settings)
    assert list(results) == [spec.check for spec in load_catalog().checks]
    for name, result in results.items():
        if name != "sensor_wear":
            assert_pass(result)
    # Two hours of readings in 14 days is far below 70 % wear: a WARN, which does not block.
    assert results["sensor_wear"].status == "WARN"
    assert results["sensor_wear"].sample == ("p1", "p2")
    assert gate(results.values())


def test_no_partitions_pass_trivially(settings: Settings) -> None:
    results = run_checks(local_lake(settings), [], as_of=AS_OF)
    assert [(r.check, r.status) for r in results] == [
        (spec.check, "PASS") for spec in load_catalog().checks
    ]


# ---------------------------------------------------------------------------- each check


def test_missing_keys(settings: Settings) -> None:
    good = Raw("p1", ms(f"{DAY}T10:00"), 120).row()
    write_raw_rows(settings, "good", [good])
    assert_pass(one(settings, "missing_keys"))
    blank = {**good, "device_id": "", "measured_at": good["measured_at"] + MINUTE_MS}  # type: ignore[operator]
    null = {**good, "patient_id": None, "event_id": "e-null"}
    write_raw_rows(settings, "bad", [blank, null])
    # missing_keys reads raw: rows without their identity never reach curated.
    result = {r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF)}[
        "missing_keys"
    ]
    assert (result.status, result.failing_count) == ("FAIL", 2)
    assert "<null>|d1|2024-03-01T10:00:00|e-null" in result.sample
    assert "p1||2024-03-01T10:01:00|p1-" + str(good["measured_at"]) in result.sample


def test_glucose_outside_range_needs_its_flag(settings: Settings) -> None:
    at = ms(f"{DAY}T10:00")
    write_raw(
        settings,
        "a",
        [
            Raw("p1", at, 39, status="BELOW_SENSOR_RANGE"),
            Raw("p1", at + 5 * MINUTE_MS, 401, status="ABOVE_SENSOR_RANGE"),
            Raw("p1", at + 10 * MINUTE_MS, 40),
            Raw("p1", at + 15 * MINUTE_MS, 400),
        ],
    )
    assert_pass(one(settings, "glucose_range_unflagged"))
    write_raw(
        settings,
        "b",
        [
            Raw("p2", at, 39),
            Raw("p2", at + 5 * MINUTE_MS, 401, status="BELOW_SENSOR_RANGE"),
        ],
    )
    result = one(settings, "glucose_range_unflagged")
    assert result.status == "FAIL"
    assert result.sample == ("p2|d1|2024-03-01T10:00:00", "p2|d1|2024-03-01T10:05:00")


def test_duplicates_surviving_into_curated_fail_and_break_reconciliation(
    settings: Settings,
) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 12))
    results = checked(settings)
    assert_pass(results["duplicate_identities"])
    assert_pass(results["raw_curated_reconciliation"])
    # A second copy of two curated rows appears in the partition (e.g. a non-atomic rewrite).
    table = pq.read_table(curated_file(settings))
    pq.write_table(table.slice(0, 2), curated_file(settings).with_name("extra.parquet"))
    results = {r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF)}
    duplicates = results["duplicate_identities"]
    assert (duplicates.status, duplicates.failing_count) == ("FAIL", 2)
    copied = table.slice(0, 2).column("measured_at").to_pylist()
    assert duplicates.sample == tuple(sorted(f"p1|d1|{t:%Y-%m-%dT%H:%M:%S}" for t in copied))
    reconciliation = results["raw_curated_reconciliation"]
    assert (reconciliation.status, reconciliation.sample) == ("FAIL", (DAY,))
    assert not gate(results.values())


def test_reconciliation_counts_missing_curated_rows_and_partitions(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 12))
    write_raw(settings, "b", series("p1", "2024-03-02T10:00", 12))
    run_elt(local_lake(settings))
    path = curated_file(settings)
    pq.write_table(pq.read_table(path).slice(1), path)  # one reading lost
    (curated_file(settings, "2024-03-02")).unlink()  # a whole partition lost
    result = run_checks(local_lake(settings), [DAY, "2024-03-02"], as_of=AS_OF)
    reconciliation = {r.check: r for r in result}["raw_curated_reconciliation"]
    assert (reconciliation.failing_count, reconciliation.sample) == (2, (DAY, "2024-03-02"))


def test_timestamps_in_the_future_or_before_the_session(settings: Settings) -> None:
    warmup = series("p1", f"{DAY}T10:00", 3, status="WARMUP")
    ok = series("p1", f"{DAY}T10:15", 6)
    write_raw(settings, "a", warmup + ok)
    assert_pass(one(settings, "timestamps_out_of_bounds"))
    before = Raw("p1", ms(f"{DAY}T09:00"), 120)
    produced_early = Raw("p2", ms(f"{DAY}T12:00"), 120, produced_at=ms(f"{DAY}T11:00"))
    future = Raw("p3", ms("2024-03-03T01:00"), 120)  # AS_OF is 2024-03-03T00:00
    write_raw(settings, "b", [before, produced_early, future])
    result = one(settings, "timestamps_out_of_bounds")
    assert result.status == "FAIL"
    assert result.sample == (
        "p1|d1|2024-03-01T09:00:00",
        "p2|d1|2024-03-01T12:00:00",
        "p3|d1|2024-03-03T01:00:00",
    )


def test_readings_per_patient_day_above_the_cadence(settings: Settings) -> None:
    # 316 readings <= 288 * 1.1 = 316.8 pass; 317 fail.
    write_raw(settings, "a", series("p1", f"{DAY}T00:00", 316, step=4))
    assert_pass(one(settings, "readings_per_patient_day"))
    write_raw(settings, "b", series("p2", f"{DAY}T00:00", 317, step=4))
    result = one(settings, "readings_per_patient_day")
    assert (result.status, result.sample) == ("FAIL", (f"p2|{DAY}",))


def test_sensor_wear_uses_the_declared_thresholds(settings: Settings) -> None:
    catalog = load_catalog()
    one_day = dataclasses.replace(
        catalog, thresholds={**catalog.thresholds, "wear_window_days": 1.0}
    )
    full = series("p1", f"{DAY}T00:00", 288)
    seventy = series("p2", f"{DAY}T00:00", 202)  # 202 / 288 = 70.1 %
    short = series("p3", f"{DAY}T00:00", 201)  # 69.8 %
    write_raw(settings, "a", full + seventy + short)
    run_elt(local_lake(settings))
    results = {
        r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF, catalog=one_day)
    }
    wear = results["sensor_wear"]
    assert (wear.severity, wear.status, wear.sample) == ("WARN", "WARN", ("p3",))
    assert gate(results.values())  # a WARN never blocks
    # Over the default 14-day window one full day is far from enough.
    default = {r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF)}
    assert default["sensor_wear"].sample == ("p1", "p2", "p3")


def test_late_data_ratio(settings: Settings) -> None:
    readings = series("p1", f"{DAY}T10:00", 10)
    late = [dataclasses.replace(readings[0], produced_at=readings[0].measured_at + 20 * MINUTE_MS)]
    write_raw(settings, "a", late + readings[1:])  # 1 / 10 late: not above 10 %
    assert_pass(one(settings, "late_data_ratio"))
    second = dataclasses.replace(readings[1], produced_at=readings[1].measured_at + 20 * MINUTE_MS)
    write_raw(settings, "b", [second])  # deduped to its earliest copy: still on time
    assert_pass(one(settings, "late_data_ratio"))
    write_raw(settings, "c", series("p2", f"{DAY}T10:00", 1, produced_at=ms(f"{DAY}T11:00")))
    result = one(settings, "late_data_ratio")  # 2 / 11 late
    assert (result.status, result.sample) == ("WARN", (DAY,))
    assert gate([result])


def test_schema_drift(settings: Settings) -> None:
    good = Raw("p1", ms(f"{DAY}T10:00"), 120).row()
    write_raw_rows(settings, "good", [good])
    assert_pass(one(settings, "schema_drift"))
    schema = parquet_schema()
    drifted = schema.remove(schema.get_field_index("trend")).append(pa.field("extra", pa.string()))
    row = {k: v for k, v in good.items() if k != "trend"} | {
        "extra": "x",
        "measured_at": good["measured_at"] + MINUTE_MS,  # type: ignore[operator]
    }
    write_raw_rows(settings, "drifted", [row], schema=drifted)
    result = one(settings, "schema_drift")
    assert result.status == "FAIL"
    assert result.sample == (
        f"raw_readings:dt={DAY}/hour=10/drifted.parquet: missing ['trend'] unexpected ['extra']",
    )


def test_checks_only_read_the_run_partitions(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 6))
    write_raw(settings, "b", [Raw("p2", ms("2024-03-02T10:00"), 20)])  # unflagged, other dt
    results = checked(settings, [DAY])
    assert_pass(results["glucose_range_unflagged"])
    results = {r.check: r for r in run_checks(local_lake(settings), ["2024-03-02"], as_of=AS_OF)}
    assert results["glucose_range_unflagged"].status == "FAIL"


# ------------------------------------------------------------------------------ the mart


def test_write_dq_results_one_file_per_run_replaced_on_rerun(settings: Settings) -> None:
    results = [
        CheckResult("missing_keys", "FAIL", "FAIL", 7, ("a", "b")),
        CheckResult("sensor_wear", "WARN", "PASS", 0, ()),
    ]
    when = datetime(2024, 3, 2, 6, 0, tzinfo=UTC)
    lake = local_lake(settings)
    key = write_dq_results(lake, results, "run-1", run_date=date(2024, 3, 1), checked_at=when)
    path = settings.lake_dir / key
    assert path == table_location(settings, "dq_results") / "run_date=2024-03-01" / "run-1.parquet"
    rows = pq.read_table(path).to_pylist()
    assert rows[0] == {
        "run_id": "run-1",
        "check": "missing_keys",
        "severity": "FAIL",
        "status": "FAIL",
        "failing_count": 7,
        "sample": ["a", "b"],
        "checked_at": datetime(2024, 3, 2, 6, 0),
    }
    write_dq_results(lake, results[1:], "run-1", run_date=date(2024, 3, 1), checked_at=when)
    assert [r["check"] for r in pq.read_table(path).to_pylist()] == ["sensor_wear"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["run-1.parquet"]
    uuid_like = write_dq_results(lake, results, "0f3c-9a", run_date=date(2024, 3, 1))
    assert uuid_like.endswith("/run_date=2024-03-01/0f3c-9a.parquet")
    with pytest.raises(ValueError, match="not a run id"):
        write_dq_results(lake, results, "../x")


def test_gate() -> None:
    warn = CheckResult("w", "WARN", "WARN", 1, ("k",))
    fail = CheckResult("f", "FAIL", "FAIL", 1, ("k",))
    passed = CheckResult("f", "FAIL", "PASS", 0, ())
    assert gate([warn, passed])
    assert not gate([warn, fail])


def test_rows_without_identity_stay_out_of_curated(settings: Settings) -> None:
    good = Raw("p1", ms(f"{DAY}T10:00"), 120).row()
    null = {**good, "patient_id": None, "event_id": "e-null"}
    write_raw_rows(settings, "mixed", [good, null])
    report = run_elt(local_lake(settings))
    assert report.curated_rows == 1
    curated = pq.read_table(table_location(settings, CURATED)).column("patient_id").to_pylist()
    assert curated == ["p1"]
    missing = {r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF)}[
        "missing_keys"
    ]
    assert missing.failing_count == 1


def test_reconciliation_allows_raw_rows_that_landed_after_the_run_planned(
    settings: Settings,
) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 12))
    run_elt(local_lake(settings))
    planned = datetime.now(UTC)
    # Firehose delivers more of the same dt while the run is at its checks: ingested just now,
    # after the run listed its files, so its rebuild could not have read them.
    now_ms = int(planned.timestamp() * 1000)
    fresh = series("p2", f"{DAY}T11:00", 3, produced_at=now_ms)
    write_raw(settings, "b", fresh)
    results = {
        r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF, planned_at=planned)
    }
    assert_pass(results["raw_curated_reconciliation"])

    # A file whose rows were ingested long before the plan but are not in curated: the rebuild
    # missed them — that fails, whatever landed late.
    old = series("p3", f"{DAY}T12:00", 2)
    write_raw(settings, "c", old)
    results = {
        r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF, planned_at=planned)
    }
    assert results["raw_curated_reconciliation"].status == "FAIL"


def test_reconciliation_fails_on_curated_rows_that_no_raw_row_has(settings: Settings) -> None:
    write_raw(settings, "a", series("p1", f"{DAY}T10:00", 12))
    run_elt(local_lake(settings))
    path = curated_file(settings)
    table = pq.read_table(path)
    invented = table.slice(0, 1).set_column(
        table.schema.get_field_index("patient_id"), "patient_id", pa.array(["p_invented"])
    )
    pq.write_table(invented, path.with_name("invented.parquet"))
    results = {r.check: r for r in run_checks(local_lake(settings), [DAY], as_of=AS_OF)}
    assert (
        results["raw_curated_reconciliation"].status,
        results["raw_curated_reconciliation"].sample,
    ) == ("FAIL", (DAY,))


def test_conflicting_identities_warn_with_both_values(settings: Settings) -> None:
    at = ms(f"{DAY}T10:00")
    write_raw(settings, "a", [Raw("p1", at, 120), Raw("p1", at + 5 * MINUTE_MS, 125)])
    write_raw(settings, "b", [Raw("p1", at, 120, produced_at=at + MINUTE_MS)])  # a redelivery
    assert_pass(one(settings, "conflicting_identities"))
    write_raw(settings, "c", [Raw("p1", at + 5 * MINUTE_MS, 180, produced_at=at + MINUTE_MS)])
    result = one(settings, "conflicting_identities")
    assert (result.status, result.failing_count) == ("WARN", 1)
    assert result.sample == ("p1|d1|2024-03-01T10:05:00 (125 vs 180 mg/dL)",)
