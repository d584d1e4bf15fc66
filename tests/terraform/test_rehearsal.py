"""The deploy rehearsal: envs/dev applied to a local moto server, read back, destroyed (~2.5 min).

Read back: the state machine, functions and mapping; every SQS subscription (each feed queue on
its topic, raw delivery); the dashboard's task definition and task role (its GS_* environment
loads into Settings in aws mode, and the names it derives are the stream, queue and privacy
ledger table it may use); the KCL alerts consumer's service, task definition, task role and
tables (its environment loads into Settings, the names it derives are exactly what its role may
use, with the Lambda consumer's patient-state actions); every Firehose delivery stream
(readings, treatments, erasures: source stream, prefixes, Glue table, the one transform, each
role's grants); the treatments and erasures grants of the ingest and pipeline roles.

moto lacks two Step Functions calls the provider makes; ``moto_rehearsal.py`` answers them
(ValidateStateMachineDefinition: OK; ListStateMachineVersions: the empty list, which is true).
Nothing is targeted out at present: every resource of envs/dev, dashboard and KCL alerts
consumer included, is applied.
"""

from __future__ import annotations

import os
import shutil
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from glucosestream.settings import ResourceNames, Settings
from tests.terraform.conftest import load_tool

NAMES = ResourceNames(env="dev")

pytestmark = pytest.mark.deploy


def test_apply_and_destroy_against_moto(tmp_path: Path) -> None:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the rehearsal did not run")
    if not Path(sys.executable).with_name("moto_server").exists():
        pytest.skip("moto_server is not installed (the project's local extra)")
    rehearsal = load_tool("moto_rehearsal")
    with rehearsal.moto_server() as endpoint:
        report = rehearsal.rehearse(tmp_path, endpoint, None)
    assert not rehearsal.UNSUPPORTED
    assert report["applied"] > 100
    assert report["apply_summary"] == [
        f"Apply complete! Resources: {report['applied']} added, 0 changed, 0 destroyed."
    ]
    assert report["state_machine"] == "gs-dev-pipeline"
    assert report["definition_has_placeholders"] is False
    assert len(report["functions"]) == 5
    assert report["event_source_mappings"] == 1
    # alerts_consumer = "both" (moto_rehearsal.ALERTS_CONSUMER): the Lambda's mapping reads too.
    assert report["event_source_mapping_states"] == ["Enabled"]
    assert report["left_after_destroy"] is False
    check_feeds(report["subscriptions"])
    check_dashboard(report["dashboard"], rehearsal.PSEUDONYM_KEY)
    check_alerts_kcl(report["alerts_kcl"], report["alerts_role_policies"], rehearsal.PSEUDONYM_KEY)
    check_ingest_reads_older_entries(report["ingest_role_policies"])
    check_ingest_puts_treatments_and_erasures(report["ingest_role_policies"])
    check_delivery_streams(report["delivery_streams"])
    check_pipeline_reads_and_curates_treatments(report["pipeline_role_policies"])
    check_pipeline_reads_erasures(report["pipeline_role_policies"])


def check_feeds(subscriptions: list[list[Any]]) -> None:
    """Each feed queue on its topic with raw delivery, as glucosestream/local/provision.py does:
    the operators' and the dashboard's queues on the alerts topic, the pipeline feed on the
    pipeline topic."""
    assert subscriptions == sorted(
        [
            [NAMES.alerts_topic, NAMES.alerts_feed_queue, True],
            [NAMES.alerts_topic, NAMES.dashboard_alerts_queue, True],
            [NAMES.pipeline_topic, NAMES.pipeline_feed_queue, True],
        ]
    )


def grants(policies: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for document in policies.values():
        for statement in document["Statement"]:
            actions, resources = statement["Action"], statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                for resource in [resources] if isinstance(resources, str) else resources:
                    found.add((action, resource))
    return found


def check_dashboard(dashboard: dict[str, Any], pseudonym_key: str) -> None:
    """The container's GS_* environment (the key comes as an ECS secret) loads into Settings in
    aws mode, and the names it derives are the stream and queue its task role may read."""
    assert dashboard["secrets"] == ["GS_PSEUDONYM_KEY"]
    environment = {**dashboard["environment"], "GS_PSEUDONYM_KEY": pseudonym_key}
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("GS_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        settings = Settings()
    assert (settings.mode, settings.names) == ("aws", NAMES)
    granted = grants(dashboard["task_role_policies"])
    stream = {r for a, r in granted if a == "kinesis:GetRecords"}
    queue = {r for a, r in granted if a == "sqs:ReceiveMessage"}
    assert [r.rsplit("/", 1)[-1] for r in stream] == [settings.names.readings_stream]
    assert [r.rsplit(":", 1)[-1] for r in queue] == [settings.names.dashboard_alerts_queue]
    for action in ("kinesis:ListShards", "kinesis:GetShardIterator"):
        assert (action, *stream) in granted
    for action in ("sqs:GetQueueUrl", "sqs:DeleteMessage"):
        assert (action, *queue) in granted
    # The stream and the queue are encrypted with the environment's key: reading needs Decrypt.
    assert any(a == "kms:Decrypt" and ":key/" in r for a, r in granted)
    # The privacy ledger: the table the container derives from GS_ENV, and only the ledger's two
    # calls on it; the identity it trusts is the dashboard ALB's; the port the image's CMD and
    # HEALTHCHECK use is the container port.
    tables = {(a, r) for a, r in granted if a.startswith("dynamodb:")}
    ledger = f":table/{settings.names.privacy_ledger_table}"
    patient_state = f":table/{settings.names.patient_state_table}"
    assert {a for a, r in tables if r.endswith(ledger)} == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
    }
    # "Acknowledge selected": a consistent read of the patient's item and one conditional put.
    assert {a for a, r in tables if r.endswith(patient_state)} == {
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
    }
    assert all(r.endswith((ledger, patient_state)) for _, r in tables)
    assert settings.privacy_budget_epsilon == 3.0
    assert settings.dashboard_alb_arn is not None
    assert settings.dashboard_alb_arn.endswith(":loadbalancer/app/gs-dev-dashboard/")
    assert environment["GS_DASHBOARD_PORT"] == "5006"


def load_container_settings(container: dict[str, Any], pseudonym_key: str) -> Settings:
    """Settings() from a container's environment read back from ECS (the key is its secret)."""
    assert container["secrets"] == ["GS_PSEUDONYM_KEY"]
    environment = {**container["environment"], "GS_PSEUDONYM_KEY": pseudonym_key}
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("GS_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        return Settings()


def check_alerts_kcl(
    kcl: dict[str, Any], alerts_role_policies: dict[str, Any], pseudonym_key: str
) -> None:
    """The KCL alerts consumer as deployed: the service and task family of the application
    name; the container's settings (aws mode, the env's names, the topic the Lambda publishes
    to, its staleness bound); its role grants exactly the stream, the KCL's three tables and
    index, the patient-state table (the Lambda role's actions on it), the alerts topic, the DLQ,
    the key, and the KCL's metrics; its tables have the KCL's keys."""
    settings = load_container_settings(kcl, pseudonym_key)
    names = settings.names
    assert (settings.mode, names) == ("aws", NAMES)
    application = names.alerts_kcl_application
    assert (kcl["service"], kcl["task_family"], kcl["desired_count"]) == (
        application,
        application,
        1,
    )
    assert settings.topic_arn(names.alerts_topic) == f"arn:aws:sns:{REGION}:{ACCOUNT}:gs-dev-alerts"
    assert settings.alert_staleness_minutes == 15
    assert kcl["environment"]["KCL_SHUTDOWN_GRACE_MILLIS"] == "10000"
    assert kcl["stop_timeout"] == 30  # shutdownGraceMillis + 20 s
    assert (kcl["user"], kcl["read_only_root"], kcl["mounts"]) == ("10001", True, ["/tmp"])

    granted = grants(kcl["task_role_policies"])
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    by_resource: dict[str, set[str]] = {}
    for action, resource in granted:
        by_resource.setdefault(resource, set()).add(action)
    key = [r for r in by_resource if ":key/" in r]
    assert len(key) == 1
    assert by_resource == {
        stream_arn(names.readings_stream): {
            "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards",
            "kinesis:GetShardIterator", "kinesis:GetRecords",
        },
        table + application: {
            "dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem",
            "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        },
        f"{table}{application}/index/LeaseOwnerToLeaseKeyIndex": {"dynamodb:Query"},
        table + names.alerts_kcl_coordinator_table: {
            "dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem",
            "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        },
        table + names.alerts_kcl_worker_metrics_table: {
            "dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        },
        table + names.patient_state_table: {"dynamodb:BatchGetItem", "dynamodb:PutItem"},
        f"arn:aws:sns:{REGION}:{ACCOUNT}:{names.alerts_topic}": {"sns:Publish"},
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:{names.alerts_dlq}": {
            "sqs:GetQueueUrl", "sqs:SendMessage",
        },
        key[0]: {"kms:Decrypt", "kms:GenerateDataKey"},
        "*": {"cloudwatch:PutMetricData"},
    }  # fmt: skip
    # The patient-state table: the same actions as the alerts Lambda's role (same consumer).
    lambda_granted = grants(alerts_role_policies)
    patient_state = table + names.patient_state_table
    assert {a for a, r in lambda_granted if r == patient_state} == by_resource[patient_state]
    # The Lambda role and the KCL role use the same key.
    assert {r for a, r in lambda_granted if a == "kms:Decrypt"} == set(key)

    assert kcl["tables"] == {
        application: {
            "keys": [["leaseKey", "HASH"]],
            "indexes": {
                "LeaseOwnerToLeaseKeyIndex": {
                    "keys": [["leaseKey", "RANGE"], ["leaseOwner", "HASH"]],
                    "projection": "KEYS_ONLY",
                }
            },
            "billing_mode": "PAY_PER_REQUEST",
        },
        names.alerts_kcl_coordinator_table: {
            "keys": [["key", "HASH"]],
            "indexes": {},
            "billing_mode": "PAY_PER_REQUEST",
        },
        names.alerts_kcl_worker_metrics_table: {
            "keys": [["wid", "HASH"]],
            "indexes": {},
            "billing_mode": "PAY_PER_REQUEST",
        },
    }


def older_entries_calls() -> tuple[set[str], dict[str, Any]]:
    """The Athena actions of the ingest API's older-entries read in aws mode (LakeEntries on the
    Athena adapter with a recording client: one that answers, one that times out and is
    stopped), and the StartQueryExecution request."""
    from glucosestream.adapters.athena import AthenaQueryEngine
    from glucosestream.ingest.lake_entries import ArchiveUnavailable, LakeEntries

    calls: set[str] = set()
    started: dict[str, Any] = {}

    class Recording:
        def __init__(self, state: str) -> None:
            self.state = state

        def start_query_execution(self, **request: Any) -> dict[str, Any]:
            calls.add("athena:StartQueryExecution")
            started.update(request)
            return {"QueryExecutionId": "q-1"}

        def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:  # noqa: N803
            calls.add("athena:GetQueryExecution")
            return {"QueryExecution": {"Status": {"State": self.state}}}

        def get_query_results(self, **_: Any) -> dict[str, Any]:
            calls.add("athena:GetQueryResults")
            return {"ResultSet": {"Rows": [], "ResultSetMetadata": {"ColumnInfo": []}}}

        def stop_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:  # noqa: N803
            calls.add("athena:StopQueryExecution")
            return {}

    for state in ("SUCCEEDED", "RUNNING"):
        engine = AthenaQueryEngine(
            Recording(state),
            database=NAMES.glue_database,
            workgroup=NAMES.athena_workgroup,
            timeout_s=0.0,
        )
        try:
            LakeEntries(lambda engine=engine: engine).entries("p_" + "0" * 32, 0, 86_400_000)
        except ArchiveUnavailable:
            assert state == "RUNNING"
    return calls, started


def check_ingest_reads_older_entries(policies: dict[str, Any]) -> None:
    """The ingest function may make exactly the Athena calls of the older-entries read, in the
    workgroup the handler derives from GS_ENV; Glue reads of the curated table the SQL names;
    the curated readings' objects; the results bucket Athena writes with its credentials."""
    calls, started = older_entries_calls()
    assert calls == {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
    }
    assert started["WorkGroup"] == NAMES.athena_workgroup
    assert f"{NAMES.glue_database}.curated_readings" in started["QueryString"]
    granted = grants(policies)
    athena = {(a, r) for a, r in granted if a.startswith("athena:")}
    assert {a for a, _ in athena} == calls
    assert {r.rsplit("/", 1)[-1] for _, r in athena} == {NAMES.athena_workgroup}
    glue_tables = {r.split(":table/", 1)[-1] for a, r in granted if ":table/" in r and "glue" in a}
    assert glue_tables == {f"{NAMES.glue_database}/curated_readings"}
    lake_objects = {r for a, r in granted if a == "s3:GetObject" and NAMES.lake_bucket in r}
    assert lake_objects == {f"arn:aws:s3:::{NAMES.lake_bucket}/curated/readings/*"}
    results = f"arn:aws:s3:::{NAMES.athena_results_bucket}/*"
    assert ("s3:PutObject", results) in granted


REGION = "eu-west-1"  # moto_rehearsal.REGION
ACCOUNT = "123456789012"  # moto's account
LAKE = f"arn:aws:s3:::{NAMES.lake_bucket}"


def stream_arn(name: str) -> str:
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def glue_table_arn(table: str) -> str:
    return f"arn:aws:glue:{REGION}:{ACCOUNT}:table/{NAMES.glue_database}/{table}"


def allowed(granted: set[tuple[str, str]], action: str, resource: str) -> bool:
    """Whether a grant (IAM wildcards in its resource) allows ``action`` on ``resource``."""
    return any(a == action and fnmatchcase(resource, r) for a, r in granted)


def check_ingest_puts_treatments_and_erasures(policies: dict[str, Any]) -> None:
    """The ingest API puts treatments and erasures of readings in PutRecords batches only (their
    Producers never aggregate, so never list shards): exactly that on each of the two streams,
    and the key's data keys."""
    granted = grants(policies)
    for name in (NAMES.treatments_stream, NAMES.erasures_stream):
        arn = stream_arn(name)
        assert {a for a, r in granted if r == arn} == {"kinesis:PutRecords"}, name
        assert not allowed(granted, "kinesis:GetRecords", arn), name
    assert any(a == "kms:GenerateDataKey" and ":key/" in r for a, r in granted)
    # The readings grant is unchanged: the other streams are not in it.
    assert ("kinesis:PutRecords", stream_arn(NAMES.readings_stream)) in granted


DELIVERIES = {
    # delivery stream → (source stream, raw prefix, errors prefix, Glue table)
    NAMES.firehose_delivery_stream: (
        NAMES.readings_stream,
        NAMES.raw_readings_prefix,
        NAMES.errors_prefix,
        "raw_readings",
    ),
    NAMES.treatments_delivery_stream: (
        NAMES.treatments_stream,
        NAMES.raw_treatments_prefix,
        NAMES.treatment_errors_prefix,
        "raw_treatments",
    ),
    NAMES.erasures_delivery_stream: (
        NAMES.erasures_stream,
        NAMES.raw_erasures_prefix,
        NAMES.erasure_errors_prefix,
        "raw_erasures",
    ),
}


def check_delivery_streams(deployed: dict[str, dict[str, Any]]) -> None:
    """Each delivery stream reads its own stream, writes its own prefixes through the one
    transform into its own table; its role may do that and nothing of the other dataset's."""
    assert set(deployed) == set(DELIVERIES)
    transform = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAMES.firehose_transform_function}"
    for name, (stream, raw_prefix, errors_prefix, table) in DELIVERIES.items():
        delivery = deployed[name]
        assert delivery["source_stream"] == stream
        assert delivery["prefix"] == (
            f"{raw_prefix}dt=!{{partitionKeyFromLambda:dt}}/hour=!{{partitionKeyFromLambda:hour}}/"
        )
        assert delivery["error_output_prefix"].startswith(f"{errors_prefix}dt=!{{timestamp:")
        assert delivery["table"] == [NAMES.glue_database, table]
        assert delivery["lambda_arn"] == f"{transform}:$LATEST"
        granted = grants(delivery["role_policies"])
        assert allowed(granted, "kinesis:GetRecords", stream_arn(stream))
        assert allowed(granted, "lambda:InvokeFunction", f"{transform}:$LATEST")
        assert allowed(granted, "glue:GetTable", glue_table_arn(table))
        for prefix in (raw_prefix, errors_prefix):
            assert allowed(granted, "s3:PutObject", f"{LAKE}/{prefix}dt=2026-01-01/x.parquet")
        assert any(a == "kms:GenerateDataKey" and ":key/" in r for a, r in granted)
        for other, (other_stream, other_raw, other_errors, other_table) in DELIVERIES.items():
            if other == name:
                continue
            assert not allowed(granted, "kinesis:GetRecords", stream_arn(other_stream))
            assert not allowed(granted, "glue:GetTable", glue_table_arn(other_table))
            for prefix in (other_raw, other_errors):
                assert not allowed(granted, "s3:PutObject", f"{LAKE}/{prefix}x")


def check_pipeline_reads_and_curates_treatments(policies: dict[str, Any]) -> None:
    """The pipeline's Athena statements read raw_treatments and UNLOAD curated_treatments under
    curated/treatments/, then register its partitions: the same grants as the readings'."""
    granted = grants(policies)
    assert allowed(granted, "s3:GetObject", f"{LAKE}/{NAMES.raw_treatments_prefix}dt=x/hour=00/f")
    assert allowed(granted, "s3:ListBucket", LAKE)
    for table in ("raw_treatments", "curated_treatments"):
        for action in ("glue:GetTable", "glue:GetPartitions"):
            assert allowed(granted, action, glue_table_arn(table)), (action, table)
    for dataset in ("readings", "treatments"):
        staged = f"{LAKE}/{NAMES.curated_prefix}{dataset}/staging/run/part-0.parquet"
        for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
            assert allowed(granted, action, staged), (action, dataset)
        for action in ("glue:BatchCreatePartition", "glue:BatchUpdatePartition"):
            assert allowed(granted, action, glue_table_arn(f"curated_{dataset}")), action
    # Raw is read only.
    assert not allowed(granted, "s3:PutObject", f"{LAKE}/{NAMES.raw_treatments_prefix}x")


def check_pipeline_reads_erasures(policies: dict[str, Any]) -> None:
    """The planner lists raw/erasures/ (the partitions an erasure lands in are rebuilt) and the
    curated_readings statements read raw_erasures to leave erased readings out: read only."""
    granted = grants(policies)
    assert allowed(granted, "s3:GetObject", f"{LAKE}/{NAMES.raw_erasures_prefix}dt=x/hour=00/f")
    assert allowed(granted, "s3:ListBucket", LAKE)
    for action in ("glue:GetTable", "glue:GetPartitions"):
        assert allowed(granted, action, glue_table_arn("raw_erasures")), action
    for action in ("s3:PutObject", "s3:DeleteObject"):
        assert not allowed(granted, action, f"{LAKE}/{NAMES.raw_erasures_prefix}x"), action
