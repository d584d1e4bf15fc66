"""The ELT pipeline: the same ASL run locally; the data-quality gate stops it before the marts."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from glucosestream.cli.main import main
from glucosestream.elt import plan as elt_plan
from glucosestream.elt import steps as pipeline
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.local import athena
from glucosestream.local.athena import LocalAthena, SqlError
from glucosestream.local.lake import local_lake
from glucosestream.local.pipeline_runner import (
    ASL_FILE,
    definition,
    placeholder_values,
    run_pipeline,
)
from glucosestream.local.stepfunctions import StateMachine, StatesError
from glucosestream.settings import Settings
from glucosestream.warehouse import sql_text
from tests.component.elt.rawdata import Version, day_of_readings, ms, write_raw, write_versions

pytestmark = pytest.mark.usefixtures("pipeline_handler_env")


def marts_files(settings: Settings) -> dict[str, bytes]:
    root = settings.lake_dir / settings.names.marts_prefix
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.parquet"))
        if "dq_results" not in p.parts and "pipeline_runs" not in p.parts
    }


def load_state(settings: Settings) -> elt_plan.RawListing:
    storage = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    return elt_plan.load_state(storage).readings


def all_states(machine: dict[str, Any]) -> list[dict[str, Any]]:
    """Every state, with those of Map iterators."""
    found = []
    for state in machine["States"].values():
        found.append(state)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found.extend(all_states(processor))
    return found


def test_the_asl_names_exactly_the_steps_the_code_has(settings: Settings) -> None:
    text = ASL_FILE.read_text()
    named = set(re.findall(r'"step": "([a-z]+)"', text))
    assert named == set(pipeline.STEPS)
    placeholders = set(re.findall(r"\$\{([a-z_]+)\}", text))
    assert placeholders == set(placeholder_values(settings))
    asl = definition(settings)
    resources = {state["Resource"] for state in all_states(asl) if state["Type"] == "Task"}
    resources |= {s["ItemReader"]["Resource"] for s in all_states(asl) if "ItemReader" in s}
    StateMachine(asl, {r: (lambda payload: payload) for r in resources})  # validates
    every_task_caught_or_notifying = [
        name
        for name, state in asl["States"].items()
        if state["Type"] in ("Task", "Map")
        and "Catch" not in state
        and not name.startswith(("Notify", "Record"))
    ]
    assert every_task_caught_or_notifying == []


def test_a_good_run_builds_the_marts_and_records_itself(settings: Settings) -> None:
    write_raw(
        settings, "a", day_of_readings("p1", "2024-03-01") + day_of_readings("p2", "2024-03-01")
    )
    run = run_pipeline(settings)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    output = run.execution.output
    assert output["quality"]["passed"] is True
    assert output["curate"]["curated_rows"] == 48
    assert output["period"]["period_rows"] == 2
    assert run.notifications == []
    lake = settings.lake_dir
    runs = duckdb.sql(
        f"SELECT status, partitions FROM read_parquet('{lake}/marts/pipeline_runs/**/*.parquet')"
    ).fetchall()
    assert runs == [("SUCCEEDED", "2024-03-01")]
    assert (
        duckdb.sql(
            f"SELECT count(*) FROM read_parquet('{lake}/marts/dq_results/**/*.parquet')"
        ).fetchall()[0][0]
        == output["quality"]["checks"]
    )
    history = json.loads(run.history_file.read_text())
    entered = [
        e["details"]["name"] for e in history["history"] if e["type"].endswith("StateEntered")
    ]
    assert entered == [
        "Plan", "UnloadCurated", "UnloadChunk", "PublishCurated", "Quality", "Gate", "Marts",
        "PeriodDue", "StageGridInput", "GridMetrics", "PeriodMarts", "Commit", "RecordRun", "Done",
    ]  # fmt: skip


def test_imported_sensor_readings_count_in_the_marts_and_meter_readings_do_not(
    settings: Settings,
) -> None:
    # A clinic's Dexcom Clarity import (source IMPORT), a live uploader (CGM), and a patient with
    # fingersticks only (BGM): the first two are the same sensor data, the last is no CGM.
    day = "2024-03-01"
    imported = [dataclasses.replace(r, source="IMPORT") for r in day_of_readings("p1", day)]
    meter = [dataclasses.replace(r, source="BGM") for r in day_of_readings("p3", day)]
    write_raw(settings, "a", imported + day_of_readings("p2", day) + meter)
    run = run_pipeline(settings)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    lake = settings.lake_dir
    counted = duckdb.sql(
        "SELECT patient_id, n_readings, round(mean, 3) FROM read_parquet("
        f"'{lake}/marts/patient_period_metrics/**/*.parquet') ORDER BY patient_id"
    ).fetchall()
    mean = round(sum(r.glucose_mg_dl for r in imported) / len(imported), 3)
    assert counted == [("p1", 24, mean), ("p2", 24, mean)]


def test_files_athena_skips_are_not_read_locally_either(settings: Settings) -> None:
    # A crashed writer's temporaries and staging files (names starting with _ or .): Athena
    # skips them, so the local engine must too, or the two modes curate different rows.
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    write_raw(settings, "_temporary", day_of_readings("p2", "2024-03-01"))
    write_raw(settings, ".tmp-part", day_of_readings("p3", "2024-03-01"))
    run = run_pipeline(settings)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert run.execution.output["curate"]["curated_rows"] == 24
    lake = settings.lake_dir
    patients = duckdb.sql(
        "SELECT DISTINCT patient_id FROM read_parquet("
        f"'{lake}/marts/patient_period_metrics/**/*.parquet')"
    ).fetchall()
    assert patients == [("p1",)]


def test_a_failing_gate_stops_before_the_marts_and_notifies(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    assert run_pipeline(settings).execution.status == "SUCCEEDED"
    published = marts_files(settings)
    committed = load_state(settings)

    # A corrupt device: 500 mg/dL with status OK (out of the sensor range, not flagged).
    write_raw(settings, "b", day_of_readings("p9", "2024-03-02", glucose=500))
    capsys.readouterr()
    assert main(["elt", "run"]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out.splitlines()[0]
    error = captured.err.strip()
    assert error.count("\n") == 0
    assert "data-quality gate failed: glucose_range_unflagged (24 failing" in error

    assert marts_files(settings) == published  # previously published marts untouched
    assert load_state(settings) == committed  # the bad partition is not committed
    lake = settings.lake_dir
    statuses = duckdb.sql(
        f"SELECT status FROM read_parquet('{lake}/marts/pipeline_runs/**/*.parquet') ORDER BY 1"
    ).fetchall()
    assert statuses == [("FAILED",), ("SUCCEEDED",)]
    history = sorted((settings.state_dir / "logs").glob("pipeline-*.json"))
    notifications = [n for h in history for n in json.loads(h.read_text())["notifications"]]
    assert len(notifications) == 1
    assert "glucose_range_unflagged" in notifications[0]["Message"]
    assert notifications[0]["TopicArn"].endswith(":gs-test-pipeline")


def test_a_failing_step_is_caught_and_notified(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))

    def broken(settings: Settings, state: dict) -> dict:
        raise OSError("disk full")

    monkeypatch.setitem(pipeline.STEPS, "marts", broken)
    run = run_pipeline(settings)
    assert run.execution.status == "FAILED"
    assert run.execution.error == "PipelineStepFailed"
    assert len(run.notifications) == 1
    assert "disk full" in run.notifications[0]["Message"]
    assert load_state(settings) == {}  # nothing committed


def test_athena_throttling_is_retried_with_backoff(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    real = LocalAthena.start_query_execution
    throttled = iter([True, True])

    def sometimes_throttled(self: LocalAthena, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if next(throttled, False):
            raise StatesError("Athena.TooManyRequestsException", "Rate exceeded")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LocalAthena, "start_query_execution", sometimes_throttled)
    waits: list[float] = []
    run = run_pipeline(settings, sleep=waits.append)
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    assert waits == [5.0, 10.0]  # IntervalSeconds 5, BackoffRate 2
    assert run.execution.output["curate"]["curated_rows"] == 24


def test_a_failed_athena_query_is_caught_notified_and_changes_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    assert run_pipeline(settings).execution.status == "SUCCEEDED"
    curated = sorted((settings.lake_dir / "curated").rglob("*.parquet"))
    write_raw(settings, "b", day_of_readings("p1", "2024-03-01", glucose=130))

    def failing(self: LocalAthena, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise SqlError("HIVE_CURSOR_ERROR: corrupt file")

    monkeypatch.setattr(LocalAthena, "start_query_execution", failing)
    run = run_pipeline(settings)
    assert run.execution.status == "FAILED"
    failed = [e for e in run.execution.history if e["type"] == "TaskFailed"]
    assert failed[0]["details"]["error"] == "States.TaskFailed"
    assert "HIVE_CURSOR_ERROR" in run.notifications[0]["Message"]
    # The notification carries the query id and Athena's reason, as .sync reports a failed query.
    cause = json.loads(json.loads(run.notifications[0]["Message"])["Cause"])
    query = cause["QueryExecution"]
    assert query["QueryExecutionId"].startswith("local-")
    assert query["Status"] == {
        "State": "FAILED",
        "StateChangeReason": "HIVE_CURSOR_ERROR: corrupt file",
    }
    assert sorted((settings.lake_dir / "curated").rglob("*.parquet")) == curated


def test_every_sql_file_the_pipeline_runs_is_declared_in_the_asl_and_vice_versa(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: set[str] = set()
    real_sql_file = sql_text.sql_file

    def recording(relative: str) -> Path:
        read.add(relative)
        return real_sql_file(relative)

    monkeypatch.setattr(sql_text, "sql_file", recording)
    monkeypatch.setattr(athena, "sql_file", recording)
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    bolus = Version("bolus", ms("2024-03-01T07:30"), ms("2024-03-01T07:31"), insulin_units=2.0)
    write_versions(settings, "a", [bolus])  # so that the treatments' SQL runs too
    run = run_pipeline(settings, run_date=date(2024, 3, 1))
    assert run.execution.status == "SUCCEEDED", run.execution.cause
    declared = {
        name for state in all_states(definition(settings)) for name in
        state.get("Parameters", {}).get("sql", [])
    }  # fmt: skip
    checks_file = "dq/checks.json"  # read by the catalogue, not by the engine
    # Table definitions are deployed (Terraform's Glue tables), not run by a step.
    read = {name for name in read if not name.startswith("ddl/")}
    assert read == declared - {checks_file}
    sql_root = athena.SQL_DIR
    pipeline_files = {
        str(p.relative_to(sql_root))
        for folder in ("staging", "curated", "intermediate", "marts", "grid", "dq")
        for p in (sql_root / folder).glob("*.sql")
    }
    assert read == pipeline_files


def test_a_step_refuses_sql_the_asl_declares_but_the_code_does_not_run(
    settings: Settings,
) -> None:
    with pytest.raises(pipeline.SqlDrift, match=r"update sfn/pipeline\.asl\.json"):
        pipeline.run_step(
            local_lake(settings), {"step": "marts", "sql": ["marts/agp_profile.sql"], "state": {}}
        )


ASL_VALIDATOR = Path(__file__).parents[3] / "node_modules" / ".bin" / "asl-validator"


@pytest.mark.skipif(not ASL_VALIDATOR.exists(), reason="asl-validator not installed (npm ci)")
def test_the_filled_asl_passes_the_asl_schema_validator(settings: Settings, tmp_path: Path) -> None:
    filled = tmp_path / "pipeline.json"
    filled.write_text(json.dumps(definition(settings)))
    ok = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(filled)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = definition(settings)
    broken["States"]["Gate"]["Choices"][0]["BooleanEquals"] = "yes"
    filled.write_text(json.dumps(broken))
    rejected = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(filled)], capture_output=True, text=True
    )
    assert rejected.returncode != 0
