"""The ELT over what the local Firehose worker landed: nothing lost, nothing doubled."""

from __future__ import annotations

import json

import duckdb
import pytest

from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.cli.main import main
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.local.pipeline_runner import run_pipeline
from glucosestream.settings import Settings
from stream.simulator import CohortConfig, simulate

pytestmark = pytest.mark.integration


def test_curated_holds_each_reading_once_and_the_marts_are_built(
    stack_env: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deliveries = list(simulate(CohortConfig(patients=4, days=2, seed=17)))
    identities = {d.reading.identity for d in deliveries}
    assert len(deliveries) > len(identities)  # the transport duplicated some readings
    stream = readings_stream(stack_env)
    Producer(stream).publish(d.reading for d in deliveries)
    worker = FirehoseWorker(stack_env, buffer_seconds=0)
    while worker.poll_once():
        pass
    worker.flush(force=True)

    capsys.readouterr()
    assert main(["elt", "run"]) == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out.splitlines()[0]
    curate_line = next(line for line in out.splitlines() if line.strip().startswith("curate:"))
    assert json.loads(curate_line.split(":", 1)[1])["curated_rows"] == len(identities)

    lake = stack_env.lake_dir
    curated = duckdb.sql(
        f"SELECT count(*), count(DISTINCT (patient_id, device_id, measured_at)) "
        f"FROM read_parquet('{lake}/curated/readings/**/*.parquet', hive_partitioning = true)"
    ).fetchall()[0]
    assert curated == (len(identities), len(identities))
    period = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/marts/patient_period_metrics/**/*.parquet')"
    ).fetchall()[0][0]
    assert period == 4
    runs = duckdb.sql(
        f"SELECT status FROM read_parquet('{lake}/marts/pipeline_runs/**/*.parquet')"
    ).fetchall()
    assert runs == [("SUCCEEDED",)]

    again = run_pipeline(stack_env)  # nothing new: nothing rebuilt
    assert again.execution.status == "SUCCEEDED"
    assert again.execution.output["curate"]["curated_partitions"] == []
