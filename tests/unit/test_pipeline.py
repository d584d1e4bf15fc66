"""The ELT pipeline: the same ASL run locally; the data-quality gate stops it before the marts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from glucosestream import pipeline
from glucosestream.cli import main
from glucosestream.elt import load_state
from glucosestream.local.pipeline_runner import ASL_FILE, definition, run_pipeline
from glucosestream.local.stepfunctions import StateMachine
from glucosestream.settings import Settings
from tests.unit.elt.rawdata import MINUTE_MS, Raw, lake_settings, ms, write_raw


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    made = lake_settings(tmp_path)
    monkeypatch.setenv("GS_STATE_DIR", str(made.state_dir))
    monkeypatch.setenv("GS_ENV", made.env)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    from consumers.pipeline import handler

    handler._settings.cache_clear()
    return made


def day_of_readings(patient: str, day: str, glucose: int = 120) -> list[Raw]:
    start = ms(f"{day}T06:00")
    return [Raw(patient, start + i * 5 * MINUTE_MS, glucose + (i % 7)) for i in range(24)]


def marts_files(settings: Settings) -> dict[str, bytes]:
    root = settings.lake_dir / settings.names.marts_prefix
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*.parquet"))
        if "dq_results" not in p.parts and "pipeline_runs" not in p.parts
    }


def test_the_asl_names_exactly_the_steps_the_code_has(settings: Settings) -> None:
    text = ASL_FILE.read_text()
    named = set(re.findall(r'"step": "([a-z]+)"', text))
    assert named == set(pipeline.STEPS)
    placeholders = set(re.findall(r"\$\{([a-z_]+)\}", text))
    assert placeholders == {"pipeline_function_arn", "pipeline_topic_arn"}
    asl = definition(settings)
    resources = {state["Resource"] for state in asl["States"].values() if state["Type"] == "Task"}
    StateMachine(asl, {r: (lambda payload: payload) for r in resources})  # validates
    every_task_caught_or_notifying = [
        name
        for name, state in asl["States"].items()
        if state["Type"] == "Task"
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
    assert output["marts"]["period_rows"] == 2
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
    assert entered == ["Plan", "Curate", "Quality", "Gate", "Marts", "Commit", "RecordRun", "Done"]


def test_a_failing_gate_stops_before_the_marts_and_notifies(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    write_raw(settings, "a", day_of_readings("p1", "2024-03-01"))
    assert run_pipeline(settings).execution.status == "SUCCEEDED"
    published = marts_files(settings)
    committed = load_state(settings.lake_dir)

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
    assert load_state(settings.lake_dir) == committed  # the bad partition is not committed
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
    assert load_state(settings.lake_dir) == {}  # nothing committed
