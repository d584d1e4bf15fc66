"""GlueTableCatalog against moto's Glue and S3 (in-process): versioned prefixes published by
Glue partition locations — new, replaced, dropped, repeated, stopped half-way — and the vacuum
of superseded versions."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from glucosestream.adapters.glue_catalog import (
    CatalogAccessDenied,
    CatalogPublishFailed,
    CatalogTableNotFound,
    GlueTableCatalog,
    parse_version,
    publish_changes,
)
from glucosestream.adapters.s3_lake import S3LakeStorage
from glucosestream.elt.tables import AGP, CURATED
from glucosestream.settings import ResourceNames
from tests.component.adapters.glue_tables import create_lake_table, table_location

NAMES = ResourceNames("test")
BUCKET = NAMES.lake_bucket
DATABASE = NAMES.glue_database
TABLE_URI = table_location(NAMES, CURATED)
T0 = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
MUTATING = {"batch_create_partition", "batch_update_partition", "batch_delete_partition"}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Recording:
    """The Glue client, each call's name and keyword arguments recorded; ``after`` runs after
    each call (a reader looking at the catalog in between), ``fail_on`` makes the n-th call of
    an operation raise before it reaches Glue (a publish killed there)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.after: Any = None
        self.fail_on: tuple[str, int] | None = None

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if not callable(method) or name in {"get_paginator"}:
            return method

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            calls = sum(1 for called, _ in self.calls if called == name)
            if self.fail_on == (name, calls):
                raise ConnectionError(f"the Lambda was stopped during {name}")
            result = method(*args, **kwargs)
            if self.after is not None:
                self.after(name)
            return result

        return recorded

    def mutations(self) -> list[tuple[str, int]]:
        return [
            (name, len(kw.get("PartitionInputList") or kw.get("Entries") or
                       kw.get("PartitionsToDelete") or []))
            for name, kw in self.calls
            if name in MUTATING
        ]  # fmt: skip


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        glue = boto3.client("glue", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        glue.create_database(DatabaseInput={"Name": DATABASE})
        create_lake_table(glue, NAMES, CURATED)
        create_lake_table(glue, NAMES, AGP)
        yield s3, glue


def catalog_of(aws: tuple[Any, Any], clock: Clock | None = None) -> GlueTableCatalog:
    s3, glue = aws
    tokens = count(1)
    return GlueTableCatalog(
        Recording(glue),
        DATABASE,
        S3LakeStorage(s3, BUCKET),
        clock=clock or Clock(T0),
        attempt_token=lambda: f"{next(tokens):08x}",
    )


def recording(catalog: GlueTableCatalog) -> Recording:
    assert isinstance(catalog.client, Recording)
    return catalog.client


def readings_parquet(dt: str, patients: int = 3) -> bytes:
    rows = pa.table(
        {
            "patient_id": [f"p_{n:03d}" for n in range(patients)],
            "measured_at": [datetime.fromisoformat(f"{dt}T08:00:00") for _ in range(patients)],
            "glucose_mg_dl": [110 + 7 * n for n in range(patients)],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(rows, buffer)
    return buffer.getvalue()


def stage(s3: Any, staged: str, dts: list[str]) -> None:
    """Write the files an UNLOAD … partitioned_by = ARRAY['dt'] writes under ``staged``."""
    key = staged[len(f"s3://{BUCKET}/") :]
    for dt in dts:
        for part in range(2):
            s3.put_object(
                Bucket=BUCKET, Key=f"{key}dt={dt}/part-{part}.parquet", Body=readings_parquet(dt)
            )


def locations(glue: Any, table: str = CURATED) -> dict[str, str]:
    paginator = glue.get_paginator("get_partitions")
    return {
        "/".join(p["Values"]): p["StorageDescriptor"]["Location"]
        for page in paginator.paginate(DatabaseName=DATABASE, TableName=table)
        for p in page["Partitions"]
    }


def object_count(s3: Any, uri: str) -> int:
    key = uri[len(f"s3://{BUCKET}/") :]
    return int(s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0))


def days(first: date, n: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(n)]


# ------------------------------------------------------------------------------ staging


def test_each_attempt_gets_a_new_visible_version_prefix_under_the_table(aws: Any) -> None:
    catalog = catalog_of(aws)
    first = catalog.staging_prefix(CURATED, "20260201t060000z", 0)
    retried = catalog.staging_prefix(CURATED, "20260201t060000z", 0)

    assert first != retried
    for staged in (first, retried):
        name = staged[len(TABLE_URI) :].rstrip("/")
        assert staged.startswith(f"{TABLE_URI}version=")
        assert "/" not in name
        version = parse_version(name)
        assert version is not None
        assert (version.run_id, version.chunk, version.created) == ("20260201t060000z", 0, T0)


def test_a_prefix_that_is_not_a_version_of_the_table_is_refused(aws: Any) -> None:
    catalog = catalog_of(aws)
    local_style = f"{TABLE_URI}.staging-run1-000/"
    other_table = catalog.staging_prefix(AGP, "run1", 0)
    for staged in (local_style, other_table, f"s3://elsewhere/{CURATED}/version=x/"):
        with pytest.raises(ValueError, match=r"not a version prefix of gs_test_lake\.curated"):
            catalog.publish(CURATED, staged, [("2026-02-01",)])
    assert locations(aws[1]) == {}


# ------------------------------------------------------------------------------ publish


def test_publishing_creates_each_partition_at_its_staged_prefix(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    staged = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, staged, ["2026-02-01", "2026-02-02"])

    catalog.publish(CURATED, staged, [("2026-02-01",), ("2026-02-02",)])

    assert locations(glue) == {
        "2026-02-01": f"{staged}dt=2026-02-01/",
        "2026-02-02": f"{staged}dt=2026-02-02/",
    }
    table = glue.get_table(DatabaseName=DATABASE, Name=CURATED)["Table"]["StorageDescriptor"]
    partition = glue.get_partition(
        DatabaseName=DATABASE, TableName=CURATED, PartitionValues=["2026-02-01"]
    )["Partition"]["StorageDescriptor"]
    assert {k: v for k, v in partition.items() if k != "Location"} == {
        k: v for k, v in table.items() if k != "Location"
    }
    assert recording(catalog).mutations() == [("batch_create_partition", 2)]


def test_republishing_replaces_some_partitions_and_drops_those_left_empty(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    first = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, first, ["2026-02-01", "2026-02-02", "2026-02-03"])
    catalog.publish(CURATED, first, [("2026-02-01",), ("2026-02-02",), ("2026-02-03",)])

    # The next run rebuilds 02 (new files) and 03 (whose readings all went: nothing unloaded).
    second = catalog.staging_prefix(CURATED, "run2", 0)
    stage(s3, second, ["2026-02-02"])
    catalog.publish(CURATED, second, [("2026-02-02",), ("2026-02-03",)])

    assert locations(glue) == {
        "2026-02-01": f"{first}dt=2026-02-01/",
        "2026-02-02": f"{second}dt=2026-02-02/",
    }
    # Nothing is deleted by a publish: a query planned before it still finds its files.
    assert object_count(s3, f"{first}dt=2026-02-02/") == 2
    assert object_count(s3, f"{first}dt=2026-02-03/") == 2
    assert recording(catalog).mutations()[1:] == [
        ("batch_update_partition", 1),
        ("batch_delete_partition", 1),
    ]


def test_a_partition_found_staged_is_published_even_if_not_named(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    staged = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, staged, ["2026-02-01", "2026-02-02"])
    catalog.publish(CURATED, staged, [("2026-02-01",)])  # as the local directory swap does
    assert set(locations(glue)) == {"2026-02-01", "2026-02-02"}


def test_repeating_a_publish_changes_nothing(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    staged = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, staged, ["2026-02-01"])
    wanted = [("2026-02-01",), ("2026-02-02",)]
    catalog.publish(CURATED, staged, wanted)
    before = locations(glue)
    calls = len(recording(catalog).calls)

    catalog.publish(CURATED, staged, wanted)

    assert locations(glue) == before == {"2026-02-01": f"{staged}dt=2026-02-01/"}
    repeated = [name for name, _ in recording(catalog).calls[calls:]]
    assert repeated == ["get_table", "batch_get_partition"]


def test_at_most_100_partitions_per_call_and_25_per_delete(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    dts = days(date(2025, 6, 1), 230)
    first = catalog.staging_prefix(CURATED, "backfill", 0)
    stage(s3, first, dts)
    catalog.publish(CURATED, first, [(dt,) for dt in dts])

    second = catalog.staging_prefix(CURATED, "rebuild", 0)
    stage(s3, second, dts[30:])  # the first 30 days lost every reading
    catalog.publish(CURATED, second, [(dt,) for dt in dts])

    assert recording(catalog).mutations() == [
        ("batch_create_partition", 100),
        ("batch_create_partition", 100),
        ("batch_create_partition", 30),
        ("batch_update_partition", 100),
        ("batch_update_partition", 100),
        ("batch_delete_partition", 25),
        ("batch_delete_partition", 5),
    ]
    assert locations(glue) == {dt: f"{second}dt={dt}/" for dt in dts[30:]}


def test_a_publish_stopped_between_two_calls_leaves_each_partition_whole_and_rerunning_completes(
    aws: Any,
) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    dts = days(date(2025, 9, 1), 150)
    old = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, old, dts)
    catalog.publish(CURATED, old, [(dt,) for dt in dts])
    new = catalog.staging_prefix(CURATED, "run2", 0)
    stage(s3, new, dts)

    recording(catalog).fail_on = ("batch_update_partition", 2)
    with pytest.raises(ConnectionError):
        catalog.publish(CURATED, new, [(dt,) for dt in dts])

    half = locations(glue)
    assert set(half) == set(dts)
    on_new = [dt for dt in dts if half[dt] == f"{new}dt={dt}/"]
    on_old = [dt for dt in dts if half[dt] == f"{old}dt={dt}/"]
    assert len(on_new) == 100
    assert len(on_old) == 50
    assert all(object_count(s3, location) == 2 for location in half.values())

    recording(catalog).fail_on = None
    catalog.publish(CURATED, new, [(dt,) for dt in dts])  # the step's retry
    assert locations(glue) == {dt: f"{new}dt={dt}/" for dt in dts}


def test_a_reader_resolving_partitions_never_finds_a_location_without_objects(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    looked: list[int] = []

    def reader(call: str) -> None:
        if call in MUTATING:
            found = locations(glue)
            assert all(object_count(s3, location) > 0 for location in found.values()), found
            looked.append(len(found))

    recording(catalog).after = reader
    dts = days(date(2025, 10, 1), 120)
    first = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, first, dts)
    catalog.publish(CURATED, first, [(dt,) for dt in dts])
    second = catalog.staging_prefix(CURATED, "run2", 0)
    stage(s3, second, dts[10:] + days(date(2026, 1, 29), 15))  # 10 emptied, 15 new days
    catalog.publish(CURATED, second, [(dt,) for dt in dts + days(date(2026, 1, 29), 15)])

    assert looked == [100, 120, 135, 135, 135, 125]  # after every create, update, delete


def test_per_partition_errors_of_a_batch_raise(aws: Any) -> None:
    s3, glue = aws
    catalog = catalog_of(aws)
    first = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, first, ["2026-02-01", "2026-02-02"])
    catalog.publish(CURATED, first, [("2026-02-01",), ("2026-02-02",)])
    second = catalog.staging_prefix(CURATED, "run2", 0)
    stage(s3, second, ["2026-02-01", "2026-02-02"])

    def someone_drops_02(call: str) -> None:
        if call == "batch_get_partition":  # between reading the catalog and updating it
            glue.delete_partition(
                DatabaseName=DATABASE, TableName=CURATED, PartitionValues=["2026-02-02"]
            )

    recording(catalog).after = someone_drops_02
    with pytest.raises(CatalogPublishFailed) as raised:
        catalog.publish(CURATED, second, [("2026-02-01",), ("2026-02-02",)])
    message = str(raised.value)
    assert "\n" not in message
    assert "BatchUpdatePartition on gs_test_lake.curated_readings" in message
    assert "2026-02-02 (EntityNotFoundException" in message


@pytest.mark.parametrize(
    ("code", "error", "named"),
    [
        ("AccessDeniedException", CatalogAccessDenied, "glue:GetTable on gs_test_lake.curated"),
        ("EntityNotFoundException", CatalogTableNotFound, "no table gs_test_lake.curated"),
    ],
)
def test_glue_refusals_are_one_line_naming_database_and_table(
    code: str, error: type[Exception], named: str
) -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    catalog = GlueTableCatalog(glue, DATABASE, S3LakeStorage(s3, BUCKET))
    with Stubber(glue) as stub:
        stub.add_client_error("get_table", code, "User: arn:aws:sts::1:assumed-role/x\n is not")
        with pytest.raises(error) as raised:
            catalog.publish(CURATED, f"{TABLE_URI}version=x/", [("2026-02-01",)])
    assert named in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_table_in_moto_is_named(aws: Any) -> None:
    catalog = catalog_of(aws)
    with pytest.raises(CatalogTableNotFound, match=r"gs_test_lake\.glycemic_episodes"):
        catalog.staging_prefix("glycemic_episodes", "run1", 0)


def test_partition_locations_are_where_glue_points(aws: Any) -> None:
    s3, _ = aws
    catalog = catalog_of(aws)
    staged = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, staged, ["2026-02-01"])
    catalog.publish(CURATED, staged, [("2026-02-01",)])
    assert catalog.partition_locations(CURATED, [("2026-02-01",), ("2026-02-02",)]) == {
        ("2026-02-01",): f"{staged}dt=2026-02-01/"
    }


def test_the_plan_of_a_publish_is_pure() -> None:
    staged = {("a",): "s3://b/t/version=2/dt=a/", ("b",): "s3://b/t/version=2/dt=b/"}
    current = {("a",): "s3://b/t/version=1/dt=a/", ("c",): "s3://b/t/version=1/dt=c/"}
    changes = publish_changes([("a",), ("c",), ("d",)], staged, current)
    assert changes.create == [(("b",), "s3://b/t/version=2/dt=b/")]
    assert changes.update == [(("a",), "s3://b/t/version=2/dt=a/")]
    assert changes.delete == [("c",)]  # d: neither staged nor present, nothing to do
    # Not asked for and not staged (c): untouched.
    assert publish_changes([("a",)], staged, {**current, **staged}).empty
    assert publish_changes([("a",), ("b",)], staged, staged).empty


# ------------------------------------------------------------------------------ vacuum


def test_vacuum_keeps_current_and_recently_superseded_versions(aws: Any) -> None:
    s3, glue = aws
    clock = Clock(T0)
    catalog = catalog_of(aws, clock)
    v1 = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, v1, ["2026-02-01", "2026-02-02"])
    catalog.publish(CURATED, v1, [("2026-02-01",), ("2026-02-02",)])
    clock.now = T0 + timedelta(hours=30)
    v2 = catalog.staging_prefix(CURATED, "run2", 0)
    stage(s3, v2, ["2026-02-01"])
    catalog.publish(CURATED, v2, [("2026-02-01",)])
    clock.now = T0 + timedelta(hours=31)
    abandoned = catalog.staging_prefix(CURATED, "run3", 0)  # its run died before publishing
    stage(s3, abandoned, ["2026-02-02"])
    foreign = "curated/readings/version=restored-by-hand/dt=2026-02-01/part-0.parquet"
    legacy = "curated/readings/dt=2026-02-01/part-0.parquet"
    for key in (foreign, legacy):
        s3.put_object(Bucket=BUCKET, Key=key, Body=readings_parquet("2026-02-01"))

    # v1's copy of 02-01 was superseded an hour ago (v2): a query planned before may read it.
    clock.now = T0 + timedelta(hours=32)
    assert catalog.vacuum(CURATED) == []

    # A day later: v1/02-01 and the abandoned attempt go; what Glue points at stays.
    clock.now = T0 + timedelta(hours=56)
    assert catalog.vacuum(CURATED) == [f"{v1}dt=2026-02-01/", f"{abandoned}dt=2026-02-02/"]
    assert locations(glue) == {
        "2026-02-01": f"{v2}dt=2026-02-01/",
        "2026-02-02": f"{v1}dt=2026-02-02/",
    }
    assert all(object_count(s3, location) == 2 for location in locations(glue).values())
    assert object_count(s3, f"{v1}dt=2026-02-01/") == 0
    assert object_count(s3, abandoned) == 0
    for key in (foreign, legacy):  # not a version this adapter named
        assert object_count(s3, f"s3://{BUCKET}/{key}") == 1
    assert catalog.vacuum(CURATED) == []


def test_vacuum_keeps_a_young_attempt_that_may_still_publish(aws: Any) -> None:
    s3, _glue = aws
    clock = Clock(T0)
    catalog = catalog_of(aws, clock)
    staged = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, staged, ["2026-02-01"])
    clock.now = T0 + timedelta(hours=23)
    assert catalog.vacuum(CURATED) == []
    catalog.publish(CURATED, staged, [("2026-02-01",)])
    clock.now = T0 + timedelta(days=30)
    assert catalog.vacuum(CURATED) == []  # referenced: kept however old
    assert object_count(s3, staged) == 2


def test_vacuum_of_a_dropped_partition(aws: Any) -> None:
    s3, glue = aws
    clock = Clock(T0)
    catalog = catalog_of(aws, clock)
    v1 = catalog.staging_prefix(CURATED, "run1", 0)
    stage(s3, v1, ["2026-02-01"])
    catalog.publish(CURATED, v1, [("2026-02-01",)])
    v2 = catalog.staging_prefix(CURATED, "run2", 0)
    catalog.publish(CURATED, v2, [("2026-02-01",)])  # nothing staged: dropped
    assert locations(glue) == {}
    clock.now = T0 + timedelta(hours=25)
    assert catalog.vacuum(CURATED) == [f"{v1}dt=2026-02-01/"]


def test_a_denied_vacuum_names_the_table() -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    catalog = GlueTableCatalog(glue, DATABASE, S3LakeStorage(s3, BUCKET))
    table = {
        "Name": CURATED,
        "DatabaseName": DATABASE,
        "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        "StorageDescriptor": {"Location": TABLE_URI, "Columns": []},
    }
    with Stubber(glue) as stub:
        stub.add_response("get_table", {"Table": table})
        stub.add_client_error("get_partitions", "AccessDeniedException", "not authorized")
        with pytest.raises(CatalogAccessDenied, match=r"glue:GetPartitions on gs_test_lake\.cur"):
            catalog.vacuum(CURATED)


def test_client_errors_other_than_refusals_are_not_renamed(aws: Any) -> None:
    glue = boto3.client("glue", region_name="us-east-1")
    catalog = GlueTableCatalog(glue, DATABASE, S3LakeStorage(aws[0], BUCKET))
    with Stubber(glue) as stub:
        stub.add_client_error("get_table", "InternalServiceException", "try again")
        with pytest.raises(ClientError, match="InternalServiceException"):
            catalog.staging_prefix(CURATED, "run1", 0)
