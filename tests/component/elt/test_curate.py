"""The curated rebuild (glucosestream.elt.curate): its Athena statements and their publish."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlglot import exp

from glucosestream.elt.curate import curate, curate_queries, curate_statement, publish_curated
from glucosestream.elt.plan import EltReport, plan_run
from glucosestream.elt.ports import Lake
from glucosestream.elt.tables import CURATED
from glucosestream.local.athena import SqlError, parse_unload
from glucosestream.local.lake import LOCAL_CURATE_PARTITIONS, lake_engine, lake_path, local_lake
from glucosestream.settings import Settings
from tests.component.elt.rawdata import day_of_readings, write_raw


def test_publishing_again_after_a_crash_part_way_keeps_every_partition(
    settings: Settings,
) -> None:
    write_raw(
        settings, "a", day_of_readings("p1", "2024-03-01") + day_of_readings("p1", "2024-03-02")
    )
    lake = local_lake(settings)
    plan = plan_run(lake)
    queries = curate_queries(lake, plan)
    engine = lake_engine(settings)
    for query in queries:
        engine.start_query_execution(
            query["QueryString"],
            query["ExecutionParameters"],
            location_of=lambda uri: lake_path(settings, uri),
        )
    # The first partition was swapped in, then the Lambda died; Step Functions invokes it again.
    staged = lake_path(settings, queries[0]["location"])
    engine.swap_in(CURATED, staged, replace=[("2024-03-01",)])
    for _ in range(2):
        report = EltReport(run_date=plan.run_date)
        publish_curated(local_lake(settings), plan, queries, report)
        assert (report.curated_rows, report.raw_rows) == (48, 48)
    assert [p for p in (settings.lake_dir / "curated").rglob("*") if ".staging" in str(p)] == []


def test_the_curated_statement_takes_the_partitions_as_parameters_only() -> None:
    statement = curate_statement("gs_test_lake", 3, "s3://gs-test-lake/curated/readings/x/")
    unload = parse_unload(statement)
    assert statement.count("?") == 6  # the readings' partitions and their erasures'
    tables = {f"{t.db}.{t.name}" for t in unload.query.find_all(exp.Table) if t.db}
    assert tables == {"gs_test_lake.raw_readings", "gs_test_lake.raw_erasures"}  # raw only
    with pytest.raises(SqlError, match="partitions per statement"):
        curate_statement("gs_test_lake", 101, "s3://gs-test-lake/curated/readings/x/")


def curated_rows(lake: Lake) -> list[dict[str, object]]:
    rows = lake.engine.execute(
        f"SELECT * FROM {lake.database}.{CURATED} ORDER BY patient_id, measured_at"
    ).columns
    names = list(rows)
    return [dict(zip(names, values, strict=True)) for values in zip(*rows.values(), strict=True)]


def seven_days_with_duplicates(settings: Settings) -> None:
    days = [f"2024-03-0{day}" for day in range(1, 8)]
    readings = [r for day in days for r in day_of_readings("p1", day)]
    # Every fourth reading delivered twice: a later copy, as a redelivery produces.
    copies = [replace(r, produced_at=r.measured_at + 60_000) for r in readings[::4]]
    write_raw(settings, "a", readings)
    write_raw(settings, "b", copies)


def test_the_plan_is_curated_in_queries_of_the_lakes_partitions_per_query(
    settings: Settings,
) -> None:
    seven_days_with_duplicates(settings)
    lake = replace(local_lake(settings), curate_partitions_per_query=3)
    queries = curate_queries(lake, plan_run(lake))
    assert [len(query["partitions"]) for query in queries] == [3, 3, 1]
    assert local_lake(settings).curate_partitions_per_query == LOCAL_CURATE_PARTITIONS


def test_curating_a_few_partitions_at_a_time_gives_the_rows_of_one_statement(
    settings: Settings, tmp_path: Path
) -> None:
    outcomes = []
    for per_query in (1, 3, 100):
        run = settings.model_copy(update={"state_dir": tmp_path / f"per-{per_query}"})
        seven_days_with_duplicates(run)
        lake = replace(local_lake(run), curate_partitions_per_query=per_query)
        plan = plan_run(lake)
        report = EltReport(run_date=plan.run_date)
        curate(lake, plan, report)
        outcomes.append((report.curated_rows, report.raw_rows, curated_rows(lake)))
    assert outcomes[0][:2] == (7 * 24, 7 * 24 + 42)
    assert outcomes[0] == outcomes[1] == outcomes[2]


@pytest.mark.parametrize("per_query", [0, 101, True])
def test_a_lake_refuses_curate_chunks_athena_cannot_write(
    settings: Settings, per_query: int
) -> None:
    with pytest.raises(ValueError, match="curate_partitions_per_query must be 1-100"):
        replace(local_lake(settings), curate_partitions_per_query=per_query)
