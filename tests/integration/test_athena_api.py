"""The local Athena API over a moto server's S3 and Glue, driven through AthenaQueryEngine: what
Athena accepts runs, what Athena refuses fails the way Athena fails it."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glucosestream.adapters.athena import AthenaQueryEngine, Backoff, QueryRejected
from glucosestream.adapters.clients import endpoint_client
from glucosestream.local.athena_api import LocalAthenaApi
from glucosestream.local.processes import free_port, spawn, stop, wait_until_listening
from glucosestream.warehouse.query_engine import QueryFailed

pytestmark = pytest.mark.integration

REGION = "us-east-1"
DATABASE = "gs_it_lake"
WORKGROUP = "gs-it-workgroup"
LAKE = "gs-it-lake"
RESULTS = "gs-it-athena-results"
PERIOD = "patient_period_metrics"
EPISODES = "glycemic_episodes"
PERIOD_ENDS = (date(2026, 1, 18), date(2026, 2, 1))
PATIENTS = 1_500  # more than one GetQueryResults page


@dataclass
class Lake:
    api: LocalAthenaApi
    s3: Any
    athena: Any
    rows: dict[date, list[dict[str, Any]]]
    episodes: list[dict[str, Any]]

    def engine(self, workgroup: str = WORKGROUP, **options: Any) -> AthenaQueryEngine:
        return AthenaQueryEngine(
            self.athena,
            database=DATABASE,
            workgroup=workgroup,
            poll=Backoff(first_s=0.02, factor=2.0, cap_s=0.2),
            timeout_s=60,
            **options,
        )

    def keys(self, bucket: str, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))


def parquet(rows: list[dict[str, Any]], schema: pa.Schema) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), sink)
    return sink.getvalue()


PERIOD_SCHEMA = pa.schema(
    [("patient_id", pa.string()), ("n_readings", pa.int64()), ("tir_70_180", pa.float64())]
)
EPISODE_SCHEMA = pa.schema(
    [("patient_id", pa.string()), ("type", pa.string()), ("duration_min", pa.float64())]
)


def period_rows(period_end: date) -> list[dict[str, Any]]:
    shift = (period_end - PERIOD_ENDS[0]).days
    return [
        {
            "patient_id": f"p_{n:04d}",
            "n_readings": 4032 - (n * 7 + shift) % 300,
            "tir_70_180": None if n % 97 == 0 else round(40 + (n * 13 + shift) % 600 / 10, 1),
        }
        for n in range(PATIENTS)
    ]


def create_table(glue: Any, name: str, columns: list[tuple[str, str]], **extra: Any) -> None:
    glue.create_table(
        DatabaseName=DATABASE,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": "period_end", "Type": "date"}],
            "StorageDescriptor": {
                "Columns": [{"Name": c, "Type": t} for c, t in columns],
                "Location": f"s3://{LAKE}/marts/{name}/",
                "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde."
                    "ParquetHiveSerDe"
                },
            },
            **extra,
        },
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    host, port = "127.0.0.1", free_port()
    logs = tmp_path_factory.mktemp("logs")
    process, child = spawn(
        "moto",
        [sys.executable, "-m", "glucosestream.local.moto_server", "-H", host, "-p", str(port)],
        port=port,
        marker="glucosestream.local.moto_server",
        log_dir=logs,
    )
    try:
        wait_until_listening(process, child, host)
        moto = f"http://{host}:{port}"
        with LocalAthenaApi(moto, region=REGION, cache_dir=tmp_path_factory.mktemp("cache")) as api:
            yield populate(api, moto)
    finally:
        stop(process)


def populate(api: LocalAthenaApi, moto: str) -> Lake:
    s3 = endpoint_client("s3", moto, REGION)
    glue = endpoint_client("glue", moto, REGION)
    for bucket in (LAKE, RESULTS, "gs-it-elsewhere"):
        s3.create_bucket(Bucket=bucket)
    configuration = {
        "ResultConfiguration": {"OutputLocation": f"s3://{RESULTS}/"},
        "EnforceWorkGroupConfiguration": True,
        "BytesScannedCutoffPerQuery": 10 * 1024 * 1024 * 1024,
    }
    # As Terraform creates it.
    endpoint_client("athena", moto, REGION).create_work_group(
        Name=WORKGROUP, Configuration=configuration
    )
    glue.create_database(DatabaseInput={"Name": DATABASE})

    # Partition projection, as Terraform creates the raw table from sql/ddl/ (on a mart-shaped
    # table here; the marts themselves have registered partitions, like the episodes below).
    create_table(
        glue,
        PERIOD,
        [("patient_id", "string"), ("n_readings", "bigint"), ("tir_70_180", "double")],
        Parameters={
            "EXTERNAL": "TRUE",
            "projection.enabled": "true",
            "projection.period_end.type": "date",
            "projection.period_end.format": "yyyy-MM-dd",
            "projection.period_end.range": "2024-01-01,NOW",
            "projection.period_end.interval": "1",
            "projection.period_end.interval.unit": "DAYS",
        },
    )
    rows = {end: period_rows(end) for end in PERIOD_ENDS}
    for end, chunk in rows.items():
        half = len(chunk) // 2  # two files per partition
        for part, piece in enumerate((chunk[:half], chunk[half:])):
            s3.put_object(
                Bucket=LAKE,
                Key=f"marts/{PERIOD}/period_end={end}/part-{part}.parquet",
                Body=parquet(piece, PERIOD_SCHEMA),
            )
    junk = parquet([{"patient_id": "ghost", "n_readings": 1, "tir_70_180": 1.0}], PERIOD_SCHEMA)
    for key in (
        f"marts/{PERIOD}/.staging-run7/period_end={PERIOD_ENDS[1]}/part-0.parquet",  # hidden
        f"marts/{PERIOD}/period_end={PERIOD_ENDS[1]}/_SUCCESS",  # hidden
        f"marts/{PERIOD}/period_end=2019-12-31/part-0.parquet",  # outside the projection range
    ):
        s3.put_object(Bucket=LAKE, Key=key, Body=junk)

    # Registered partitions, each at its own (versioned) location.
    create_table(
        glue,
        EPISODES,
        [("patient_id", "string"), ("type", "string"), ("duration_min", "double")],
        Parameters={"EXTERNAL": "TRUE"},
    )
    episodes = []
    for version, end in (("v-0003", PERIOD_ENDS[0]), ("v-0004", PERIOD_ENDS[1])):
        piece = [
            {"patient_id": f"p_{n:04d}", "type": "hypo", "duration_min": 15.0 + n} for n in range(3)
        ]
        location = f"marts/{EPISODES}/{version}/period_end={end}/"
        s3.put_object(Bucket=LAKE, Key=f"{location}x", Body=parquet(piece, EPISODE_SCHEMA))
        glue.create_partition(
            DatabaseName=DATABASE,
            TableName=EPISODES,
            PartitionInput={
                "Values": [end.isoformat()],
                "StorageDescriptor": {"Location": f"s3://{LAKE}/{location}"},
            },
        )
        episodes += [{**row, "period_end": end} for row in piece]
    stale = parquet([{"patient_id": "old", "type": "hypo", "duration_min": 1.0}], EPISODE_SCHEMA)
    s3.put_object(  # a superseded version: no partition points at it
        Bucket=LAKE, Key=f"marts/{EPISODES}/v-0002/period_end={PERIOD_ENDS[1]}/x", Body=stale
    )
    athena = endpoint_client("athena", api.endpoint, REGION, max_attempts=1)
    return Lake(api, s3, athena, rows, episodes)


# ------------------------------------------------------------------------------------ reads


def test_a_select_with_parameters_returns_typed_rows_of_the_partition_it_names(lake: Lake) -> None:
    end = PERIOD_ENDS[1]
    result = lake.engine().execute(
        f"SELECT patient_id, n_readings, tir_70_180, period_end FROM {PERIOD} "
        "WHERE period_end = ? AND tir_70_180 >= ? AND patient_id LIKE ? ORDER BY patient_id",
        [end, 75.5, "p_0%"],
    )
    expected = [
        r
        for r in lake.rows[end]
        if r["tir_70_180"] is not None and r["tir_70_180"] >= 75.5 and r["patient_id"] < "p_1"
    ]
    assert len(expected) > 100
    assert result.columns == {
        "patient_id": [r["patient_id"] for r in expected],
        "n_readings": [r["n_readings"] for r in expected],
        "tir_70_180": [r["tir_70_180"] for r in expected],
        "period_end": [end] * len(expected),
    }
    assert result.data_scanned_bytes > 0


def test_more_than_a_page_of_rows_comes_back_whole_and_in_order(lake: Lake) -> None:
    end = PERIOD_ENDS[0]
    sql = f"SELECT patient_id, tir_70_180 FROM {DATABASE}.{PERIOD} WHERE period_end = ? ORDER BY 1"
    result = lake.engine().execute(sql, [end.isoformat()])
    assert result.columns["patient_id"] == [r["patient_id"] for r in lake.rows[end]]
    assert result.columns["tir_70_180"] == [r["tir_70_180"] for r in lake.rows[end]]
    assert None in result.columns["tir_70_180"]  # NULL cells survive

    first = lake.athena.get_query_results(QueryExecutionId=result.query_id)
    assert len(first["ResultSet"]["Rows"]) == 1000  # the header and 999 rows
    assert first["ResultSet"]["Rows"][0]["Data"] == [
        {"VarCharValue": "patient_id"},
        {"VarCharValue": "tir_70_180"},
    ]
    assert "NextToken" in first


def test_hidden_objects_and_partitions_outside_the_projection_are_not_read(lake: Lake) -> None:
    result = lake.engine().execute(
        f"SELECT period_end, count(*) AS n FROM {PERIOD} GROUP BY period_end ORDER BY period_end"
    )
    assert result.columns == {"period_end": list(PERIOD_ENDS), "n": [PATIENTS, PATIENTS]}


def test_registered_partitions_are_read_from_their_own_locations(lake: Lake) -> None:
    result = lake.engine().execute(
        f"SELECT patient_id, type, duration_min, period_end FROM {EPISODES} "
        "ORDER BY period_end, patient_id"
    )
    columns = result.columns
    rows = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    assert rows == lake.episodes  # not the superseded v-0002


def test_the_enforced_workgroup_output_location_receives_the_result_file(lake: Lake) -> None:
    engine = lake.engine(output_location="s3://gs-it-elsewhere/mine/")
    result = engine.execute(
        f"SELECT count(*) AS n FROM {PERIOD} WHERE period_end = ?", [date(2025, 1, 1)]
    )
    assert result.columns == {"n": [0]}
    assert lake.keys(RESULTS, result.query_id) == [f"{result.query_id}.csv"]
    body = lake.s3.get_object(Bucket=RESULTS, Key=f"{result.query_id}.csv")["Body"].read()
    assert body == b'"n"\n"0"\n'
    assert lake.keys("gs-it-elsewhere", "") == []


# ------------------------------------------------------------------------------------ UNLOAD


def unload(location: str) -> str:
    return (
        f"UNLOAD (SELECT patient_id, tir_70_180, period_end FROM {PERIOD} "
        f"WHERE period_end IN (?, ?) AND tir_70_180 < ?) TO '{location}' "
        "WITH (format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY['period_end'])"
    )


def test_an_unload_writes_parquet_into_an_empty_prefix_and_refuses_a_used_one(
    lake: Lake, tmp_path: Path
) -> None:
    location = f"s3://{LAKE}/exports/run-1/"
    engine = lake.engine()
    result = engine.execute(unload(location), [PERIOD_ENDS[0], PERIOD_ENDS[1], 50])
    assert result.columns == {}
    keys = lake.keys(LAKE, "exports/run-1/")
    assert {k.split("/")[2] for k in keys} == {f"period_end={end}" for end in PERIOD_ENDS}
    unloaded = []
    for key in keys:
        body = lake.s3.get_object(Bucket=LAKE, Key=key)["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        assert table.column_names == ["patient_id", "tir_70_180"]
        period_end = key.split("/")[2].removeprefix("period_end=")
        unloaded += [(r["patient_id"], r["tir_70_180"], period_end) for r in table.to_pylist()]
    expected = [
        (r["patient_id"], r["tir_70_180"], end.isoformat())
        for end in PERIOD_ENDS
        for r in lake.rows[end]
        if r["tir_70_180"] is not None and r["tir_70_180"] < 50
    ]
    assert sorted(unloaded) == sorted(expected)
    manifest = lake.s3.get_object(Bucket=RESULTS, Key=f"{result.query_id}-manifest.csv")
    assert manifest["Body"].read().decode().split() == [f"s3://{LAKE}/{k}" for k in keys]

    with pytest.raises(QueryFailed, match="HIVE_PATH_ALREADY_EXISTS") as raised:
        engine.execute(unload(location), [PERIOD_ENDS[0], PERIOD_ENDS[1], 50])
    assert raised.value.state == "FAILED"
    assert location in raised.value.reason
    assert raised.value.query_id in str(raised.value)
    assert lake.keys(LAKE, "exports/run-1/") == keys  # untouched


# ------------------------------------------------------------------------ what Athena refuses


def test_an_unknown_workgroup_is_refused_before_any_query(lake: Lake) -> None:
    with pytest.raises(QueryRejected, match="WorkGroup gs-it-nope is not found") as raised:
        lake.engine(workgroup="gs-it-nope").execute(f"SELECT 1 FROM {PERIOD}")
    assert raised.value.code == "InvalidRequestException"


@pytest.mark.parametrize(
    ("sql", "parameters", "reason"),
    [
        (f"SELECT * FROM {PERIOD} WHERE period_end = ? AND patient_id = ?",
         [PERIOD_ENDS[0]],
         "INVALID_PARAMETER_USAGE: line 1:1: Incorrect number of parameters: expected 2 but "
         "found 1"),
        (f"SELECT * FROM {PERIOD} WHERE period_end = ?", [],
         "Incorrect number of parameters: expected 1 but found 0"),
        (f"SELECT patient_id FORM {PERIOD}", [], "SYNTAX_ERROR: line 1:"),
        ("SELECT * FROM gs_it_lake.no_such_table", [],
         "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.gs_it_lake.no_such_table' does "
         "not exist"),
        ("SELECT * FROM gs_it_nowhere.t", [],
         "SCHEMA_NOT_FOUND: line 1:15: Schema 'gs_it_nowhere' does not exist"),
        (f"SELECT no_such_column FROM {PERIOD}", [], "COLUMN_NOT_FOUND"),
        (f"DROP TABLE {PERIOD}", [], "NOT_SUPPORTED"),
    ],
)  # fmt: skip
def test_a_query_athena_would_fail_fails_with_its_id_and_reason(
    lake: Lake, sql: str, parameters: list[Any], reason: str
) -> None:
    with pytest.raises(QueryFailed) as raised:
        lake.engine().execute(sql, parameters)
    failed = raised.value
    assert failed.state == "FAILED"
    assert reason in failed.reason
    execution = lake.athena.get_query_execution(QueryExecutionId=failed.query_id)
    assert execution["QueryExecution"]["Status"]["StateChangeReason"] == failed.reason


def test_an_unquoted_date_parameter_is_arithmetic_as_on_athena(lake: Lake) -> None:
    athena = lake.athena
    started = athena.start_query_execution(
        QueryString=f"SELECT count(*) FROM {PERIOD} WHERE period_end = ?",
        QueryExecutionContext={"Database": DATABASE},
        WorkGroup=WORKGROUP,
        ExecutionParameters=["2026-02-01"],  # 2026 - 2 - 1 = 2023: no date
    )
    engine = lake.engine()
    with pytest.raises(QueryFailed) as raised:
        engine.wait(started["QueryExecutionId"])
    assert raised.value.query_id == started["QueryExecutionId"]


def test_a_query_execution_reports_athena_fields(lake: Lake) -> None:
    result = lake.engine().execute(
        f"SELECT count(*) AS n FROM {PERIOD} WHERE period_end = ?",
        [PERIOD_ENDS[1] - timedelta(days=14)],
    )
    execution = lake.athena.get_query_execution(QueryExecutionId=result.query_id)["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["ResultConfiguration"]["OutputLocation"] == (
        f"s3://{RESULTS}/{result.query_id}.csv"
    )
    assert execution["ExecutionParameters"] == ["DATE '2026-01-18'"]
    assert execution["Statistics"]["DataScannedInBytes"] == result.data_scanned_bytes > 0
    assert result.columns == {"n": [PATIENTS]}


def test_the_entry_point_serves_the_same_api(lake: Lake, tmp_path: Path) -> None:
    port = free_port()
    process, child = spawn(
        "athena-api",
        [
            sys.executable,
            "-m",
            "glucosestream.local.athena_api",
            "--port",
            str(port),
            "--moto-endpoint",
            lake.api.moto_endpoint,
            "--region",
            REGION,
        ],
        port=port,
        marker="glucosestream.local.athena_api",
        log_dir=tmp_path,
    )
    try:
        wait_until_listening(process, child, "127.0.0.1")
        athena = endpoint_client("athena", f"http://127.0.0.1:{port}", REGION)
        group = athena.get_work_group(WorkGroup=WORKGROUP)["WorkGroup"]
        assert group["Configuration"]["EnforceWorkGroupConfiguration"] is True
        engine = AthenaQueryEngine(
            athena, database=DATABASE, workgroup=WORKGROUP, poll=Backoff(0.02, 2.0, 0.2)
        )
        result = engine.execute(
            f"SELECT count(*) AS n FROM {PERIOD} WHERE period_end = ?", [PERIOD_ENDS[1]]
        )
        assert result.columns == {"n": [PATIENTS]}
    finally:
        assert stop(process)


def test_a_predicate_on_the_projected_key_prunes_what_is_scanned(lake: Lake) -> None:
    def size(prefix: str) -> int:
        listed = lake.s3.list_objects_v2(Bucket=LAKE, Prefix=prefix)["Contents"]
        return sum(o["Size"] for o in listed if o["Key"].endswith(".parquet"))

    one = lake.engine().execute(
        f"SELECT count(*) AS n FROM {PERIOD} WHERE period_end = ?", [PERIOD_ENDS[1]]
    )
    every = lake.engine().execute(f"SELECT count(*) AS n FROM {PERIOD}")
    assert one.data_scanned_bytes == size(f"marts/{PERIOD}/period_end={PERIOD_ENDS[1]}/")
    assert every.data_scanned_bytes == sum(
        size(f"marts/{PERIOD}/period_end={end}/") for end in PERIOD_ENDS
    )
