"""The pipeline's steps in aws mode, composed by ``lake_for`` (S3 lake, Glue catalog) over moto
in-process, with the Athena stand-in the rehearsal uses (the local Athena API's query runner:
DuckDB over the S3 objects of the Glue tables' registered partitions) as the query engine: the
curated and mart partitions are published as versioned prefixes through Glue, nothing is
renamed, a retried step leaves the published version intact, and the plan step vacuums."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from consumers.pipeline.handler import lake_for
from glucosestream.adapters.athena import athena_value
from glucosestream.adapters.glue_catalog import GlueTableCatalog, parse_version
from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.elt import quality as dq
from glucosestream.elt.ports import Lake
from glucosestream.elt.steps import run_step
from glucosestream.elt.tables import AGP, CURATED, DAILY, TABLES, table_prefix
from glucosestream.ingest.lake_entries import LakeEntries
from glucosestream.local.athena_api import Execution, ObjectCache, QueryError, QueryRunner
from glucosestream.settings import Settings
from glucosestream.warehouse.query_engine import Parameter, QueryFailed, QueryResult
from glucosestream.warehouse.sql_text import Statement, athena_literal
from tests.component.adapters.glue_tables import RAW_TABLES, create_lake_table
from tests.component.elt.rawdata import MINUTE_MS, Raw, ms, write_raw

REGION = "us-east-1"


class RunnerEngine:
    """The query-engine port on the local Athena API's runner, in-process (no HTTP): each
    statement reads the Glue tables as Athena would (raw by projection, the rest by their
    registered partitions' locations) and UNLOADs into S3."""

    def __init__(self, glue: Any, s3: Any, settings: Settings, scratch: Path) -> None:
        self.settings = settings
        self.runner = QueryRunner(glue, ObjectCache(s3, scratch / "objects"), scratch / "runs")
        self.statements: list[str] = []
        self.typed = False
        """Cells as the Athena adapter returns them (typed by column type), not as text."""

    @property
    def database(self) -> str:
        return self.settings.names.glue_database

    def execute(self, sql: str, parameters: Sequence[Parameter] = ()) -> QueryResult:
        self.statements.append(sql)
        execution = Execution(
            query_id=str(uuid.uuid4()),
            query=sql,
            database=self.database,
            workgroup=self.settings.names.athena_workgroup,
            output_location=f"s3://{self.settings.names.athena_results_bucket}/",
            parameters=tuple(athena_literal(value) for value in parameters),
            bytes_scanned_cutoff=None,
        )
        try:
            self.runner.run(execution)
        except QueryError as error:
            raise QueryFailed(execution.query_id, "FAILED", str(error)) from None
        names = [column["Name"] for column in execution.header]
        columns = {name: [row[i] for row in execution.rows] for i, name in enumerate(names)}
        if self.typed:
            kinds = {column["Name"]: column["Type"] for column in execution.header}
            columns = {n: [athena_value(v, kinds[n]) for v in vs] for n, vs in columns.items()}
        return QueryResult(execution.query_id, columns, execution.data_scanned)


class NoGridMetrics:
    """The period marts' grid part is another module's (the grid-metrics Lambda)."""

    def build_period_marts(
        self, lake: Lake, readings: Statement, sql_metrics: Statement, start: date, end: date
    ) -> tuple[int, int]:
        return 0, 0


@dataclass
class AwsLake:
    lake: Lake
    settings: Settings
    s3: Any
    glue: Any
    raw_dir: Path

    def object_keys(self, prefix: str = "") -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        bucket = self.settings.names.lake_bucket
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def partitions(self, table: str) -> dict[str, str]:
        paginator = self.glue.get_paginator("get_partitions")
        return {
            "/".join(p["Values"]): p["StorageDescriptor"]["Location"]
            for page in paginator.paginate(
                DatabaseName=self.settings.names.glue_database, TableName=table
            )
            for p in page["Partitions"]
        }

    def land(self, name: str, readings: list[Raw]) -> None:
        """Raw files as Firehose lays them out, into the lake bucket."""
        local = replace_state_dir(self.settings, self.raw_dir)
        for path in write_raw(local, name, readings):
            key = path.relative_to(local.lake_dir).as_posix()
            self.s3.put_object(
                Bucket=self.settings.names.lake_bucket, Key=key, Body=path.read_bytes()
            )


def replace_state_dir(settings: Settings, state_dir: Path) -> Settings:
    """Local settings of the same environment over ``state_dir`` (where the raw files are made)."""
    return Settings(env=settings.env, state_dir=state_dir)


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[AwsLake]:
    with mock_aws():
        settings = Settings(
            env="test",
            mode="aws",
            region=REGION,
            pseudonym_key=SecretStr("k" * 32),
            state_dir=tmp_path / "state",
        )
        names = settings.names
        s3 = boto3.client("s3", region_name=REGION)
        glue = boto3.client("glue", region_name=REGION)
        for bucket in (names.lake_bucket, names.athena_results_bucket):
            s3.create_bucket(Bucket=bucket)
        glue.create_database(DatabaseInput={"Name": names.glue_database})
        for table in (*RAW_TABLES, *TABLES):
            create_lake_table(glue, names, table)

        composed = lake_for(settings)  # the pipeline Lambda's composition root, aws mode
        assert isinstance(composed.storage, S3LakeStorage)
        assert isinstance(composed.catalog, GlueTableCatalog)
        engine = RunnerEngine(glue, s3, settings, tmp_path / "athena")
        lake = replace(composed, engine=engine, grid=NoGridMetrics())
        yield AwsLake(lake, settings, s3, glue, tmp_path / "raw")


def day(patient: str, when: str, n: int = 24, glucose: int = 120) -> list[Raw]:
    start = ms(when)
    return [Raw(patient, start + i * 5 * MINUTE_MS, glucose + (i % 9)) for i in range(n)]


def run_pipeline(aws: AwsLake, run_id: str, run_date: str) -> dict[str, Any]:
    """The state machine's steps, in order (the curated UNLOADs as its Athena tasks run them)."""
    lake = aws.lake
    plan = run_step(lake, {"step": "plan", "state": {"run_id": run_id, "run_date": run_date}})
    for query in plan["curate_queries"]:
        lake.engine.execute(query["QueryString"], query["parameters"])
    curate = run_step(lake, {"step": "publish", "state": {"plan": plan}})
    quality = run_step(lake, {"step": "quality", "state": {"plan": plan}})
    assert quality["passed"], quality["failed"]
    marts = run_step(lake, {"step": "marts", "state": {"plan": plan, "curate": curate}})
    run_step(lake, {"step": "commit", "state": {"plan": plan}})
    return {"plan": plan, "curate": curate, "marts": marts}


def version_of(location: str) -> str:
    name = next(part for part in location.split("/") if part.startswith("version="))
    assert parse_version(name) is not None, name
    return name


def test_a_run_publishes_curated_and_marts_through_glue_at_version_prefixes(aws: AwsLake) -> None:
    aws.land("a", day("p_001", "2026-02-01T06:00") + day("p_002", "2026-02-02T07:00"))

    run = run_pipeline(aws, "20260202t230000z", "2026-02-02")

    bucket = f"s3://{aws.settings.names.lake_bucket}/"
    curated = aws.partitions(CURATED)
    assert set(curated) == {"2026-02-01", "2026-02-02"}
    for dt, location in curated.items():
        assert location.startswith(f"{bucket}curated/readings/version=20260202t230000z-000-")
        assert location.endswith(f"/dt={dt}/")
        assert any(key.endswith(".parquet") for key in aws.object_keys(location[len(bucket) :]))
    assert run["curate"]["curated_rows"] == 48
    assert set(aws.partitions(DAILY)) == {"2026-02-01", "2026-02-02"}
    assert set(aws.partitions(AGP)) == {"2026-02-02"}
    # Nothing under the tables but version prefixes: no rename, no hidden staging left behind.
    # (The period marts come from the grid and period steps, which run_pipeline leaves out.)
    prefixes = {table: table_prefix(aws.settings.names, table) for table in TABLES}
    keys = {table: aws.object_keys(prefix) for table, prefix in prefixes.items()}
    assert {table for table, found in keys.items() if found} == {CURATED, DAILY, AGP}
    for table, found in keys.items():
        assert all(key[len(prefixes[table]) :].startswith("version=") for key in found), table
    assert not [key for key in aws.object_keys() if "/.staging-" in key]

    # The schema-drift check reads the curated files where Glue says they are.
    drift_input = dq._partition_files(aws.lake, CURATED, ["2026-02-01", "2026-02-02"])
    assert sorted({key.rsplit("/", 2)[-2] for key in drift_input}) == [
        "dt=2026-02-01",
        "dt=2026-02-02",
    ]
    assert all("/version=20260202t230000z-000-" in key for key in drift_input)

    # Readers (Athena) see the published rows through the registered partitions.
    counted = aws.lake.engine.execute(
        f"SELECT count(*) AS n FROM {aws.lake.database}.{CURATED} WHERE dt = ?", ["2026-02-02"]
    )
    assert counted.columns["n"] == ["24"]


def test_an_incremental_run_moves_only_the_rebuilt_partitions_to_a_new_version(
    aws: AwsLake,
) -> None:
    aws.land("a", day("p_001", "2026-02-01T06:00") + day("p_001", "2026-02-02T06:00"))
    run_pipeline(aws, "run1", "2026-02-02")
    before = aws.partitions(CURATED)

    aws.land("b", day("p_002", "2026-02-02T12:00"))  # a late upload into 02-02 only
    run_pipeline(aws, "run2", "2026-02-02")

    after = aws.partitions(CURATED)
    assert after["2026-02-01"] == before["2026-02-01"]
    assert version_of(after["2026-02-02"]).startswith("version=run2-")
    # The superseded version is still there for queries planned before the publish.
    bucket = f"s3://{aws.settings.names.lake_bucket}/"
    assert aws.object_keys(before["2026-02-02"][len(bucket) :])
    counted = aws.lake.engine.execute(
        f"SELECT count(*) AS n FROM {aws.lake.database}.{CURATED} WHERE dt = ?", ["2026-02-02"]
    )
    assert counted.columns["n"] == ["48"]


def test_a_retried_marts_step_never_deletes_the_published_version(aws: AwsLake) -> None:
    aws.land("a", day("p_001", "2026-02-01T06:00"))
    run = run_pipeline(aws, "run1", "2026-02-01")
    published = aws.partitions(DAILY)["2026-02-01"]
    bucket = f"s3://{aws.settings.names.lake_bucket}/"
    files = aws.object_keys(published[len(bucket) :])

    # Step Functions retries the marts step (e.g. its Lambda timed out after publishing).
    state = {"plan": run["plan"], "curate": run["curate"]}
    run_step(aws.lake, {"step": "marts", "state": state})

    again = aws.partitions(DAILY)["2026-02-01"]
    assert version_of(again) != version_of(published)
    assert aws.object_keys(published[len(bucket) :]) == files  # not emptied by the retry


def test_the_plan_step_vacuums_superseded_versions_past_the_retention(aws: AwsLake) -> None:
    aws.land("a", day("p_001", "2026-02-01T06:00"))
    run_pipeline(aws, "run1", "2026-02-01")
    first = aws.partitions(CURATED)["2026-02-01"]
    aws.land("b", day("p_002", "2026-02-01T12:00"))
    run_pipeline(aws, "run2", "2026-02-01")
    second = aws.partitions(CURATED)["2026-02-01"]
    bucket = f"s3://{aws.settings.names.lake_bucket}/"
    assert aws.object_keys(first[len(bucket) :])  # superseded minutes ago: kept

    catalog = aws.lake.catalog
    assert isinstance(catalog, GlueTableCatalog)
    catalog.clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    plan = run_step(aws.lake, {"step": "plan", "state": {"run_id": "run3"}})

    assert plan["vacuumed_prefixes"] >= 1
    assert not aws.object_keys(first[len(bucket) :])
    assert aws.object_keys(second[len(bucket) :])
    assert aws.partitions(CURATED)["2026-02-01"] == second


def test_the_aws_composition_imports_no_local_engine() -> None:
    """The pipeline artefact ships no DuckDB, sqlglot or local runtime: building the aws lake
    (S3, Athena, Glue adapters) must not need them."""
    script = (
        "import json, sys\n"
        "from pydantic import SecretStr\n"
        "from consumers.pipeline.handler import lake_for\n"
        "from glucosestream.settings import Settings\n"
        "settings = Settings(env='test', mode='aws', pseudonym_key=SecretStr('k' * 32))\n"
        "lake = lake_for(settings)\n"
        "print(json.dumps([type(lake.catalog).__module__, sorted(sys.modules)]))\n"
    )
    root = Path(__file__).resolve().parents[4]
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "AWS_DEFAULT_REGION": REGION},
    )
    catalog_module, loaded = json.loads(done.stdout)
    assert catalog_module == "glucosestream.adapters.glue_catalog"
    forbidden = ("duckdb", "sqlglot", "glucosestream.local")
    assert [m for m in loaded for f in forbidden if m == f or m.startswith(f"{f}.")] == []


def test_older_nightscout_entries_are_read_through_athena_from_the_published_version(
    aws: AwsLake,
) -> None:
    """The ingest API's lake read (aws mode: its SQL through the Athena adapter) finds the
    curated readings where Glue registered them, one entry per reading, newest first."""
    aws.land("a", day("p_001", "2026-02-01T06:00", n=4) + day("p_002", "2026-02-01T06:00"))
    aws.land("b", day("p_001", "2026-02-01T06:00", n=2))  # redelivered: the same readings
    run_pipeline(aws, "run1", "2026-02-01")
    engine = aws.lake.engine
    assert isinstance(engine, RunnerEngine)
    engine.typed = True

    found = LakeEntries(lambda: engine).entries(
        "p_001", ms("2026-02-01T06:05"), ms("2026-02-01T07:00")
    )

    assert [(e["date"], e["sgv"]) for e in found] == [
        (ms("2026-02-01T06:15"), 123),
        (ms("2026-02-01T06:10"), 122),
        (ms("2026-02-01T06:05"), 121),
    ]
    assert found.before is not None
    assert found.before["date"] == ms("2026-02-01T06:00")
    assert "p_001" not in engine.statements[-1]  # values travel as ExecutionParameters only
