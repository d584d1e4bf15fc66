"""The curated rebuild (glucosestream.elt.curate): its Athena statements and their publish."""

from __future__ import annotations

import pytest
from sqlglot import exp

from glucosestream.elt.curate import curate_queries, curate_statement, publish_curated
from glucosestream.elt.plan import EltReport, plan_run
from glucosestream.elt.tables import CURATED
from glucosestream.local.athena import SqlError, parse_unload
from glucosestream.local.lake import lake_engine, lake_path, local_lake
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
