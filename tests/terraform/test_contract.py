"""Contract tests: what Terraform deploys matches what the code expects.

Read from a plan of envs/dev against a local moto server (conftest.py): resource names equal
glucosestream/settings.py ResourceNames for env "dev"; every Lambda handler exists and gets every
setting it reads; the event-source mapping and Firehose use the settings the local stand-ins run
with; the KCL alerts consumer's service, tables and task role (exactly what the daemon and the
record processor call), and the choice of alerts consumer; the Glue tables have the columns of
sql/ddl/; the state machine's definition is the ASL with every placeholder filled.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import sqlglot
from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlglot import exp

from glucosestream.lake.raw_zone.schema import HIVE_JSON_TIMESTAMP_FORMATS
from glucosestream.local import firehose as local_firehose
from glucosestream.local.workers import ALERTS_MAPPING
from glucosestream.settings import ResourceNames, Settings
from tests.terraform.conftest import MODULES_DIR, REPO_ROOT, planned_resources, unquote

NAMES = ResourceNames(env="dev")
REGION = "eu-west-1"  # moto_rehearsal.REGION: not Settings' default, so GS_REGION must be set
REQUIRED_IN_AWS = {
    "GS_ENV", "GS_MODE", "GS_REGION", "GS_ALERTS_TOPIC_ARN", "GS_PIPELINE_TOPIC_ARN",
    "GS_PSEUDONYM_KEY",
}  # fmt: skip
"""What a function loading Settings needs in aws mode: the mode, names, ARNs, the key (required)."""
ASL_PATH = REPO_ROOT / "sfn" / "pipeline.asl.json"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# ResourceNames attribute → (resource type, attribute holding the name). Prefixes are checked by
# the Firehose and Glue tests below.
NAMED_RESOURCES: dict[str, tuple[str, str]] = {
    "readings_stream": ("aws_kinesis_stream", "name"),
    "treatments_stream": ("aws_kinesis_stream", "name"),
    "erasures_stream": ("aws_kinesis_stream", "name"),
    "lake_bucket": ("aws_s3_bucket", "bucket"),
    "athena_results_bucket": ("aws_s3_bucket", "bucket"),
    "patient_state_table": ("aws_dynamodb_table", "name"),
    "nightscout_table": ("aws_dynamodb_table", "name"),
    "privacy_ledger_table": ("aws_dynamodb_table", "name"),
    "alerts_topic": ("aws_sns_topic", "name"),
    "pipeline_topic": ("aws_sns_topic", "name"),
    "alerts_dlq": ("aws_sqs_queue", "name"),
    "alerts_feed_queue": ("aws_sqs_queue", "name"),
    "dashboard_alerts_queue": ("aws_sqs_queue", "name"),
    "pipeline_feed_queue": ("aws_sqs_queue", "name"),
    "firehose_delivery_stream": ("aws_kinesis_firehose_delivery_stream", "name"),
    "treatments_delivery_stream": ("aws_kinesis_firehose_delivery_stream", "name"),
    "erasures_delivery_stream": ("aws_kinesis_firehose_delivery_stream", "name"),
    "pipeline_function": ("aws_lambda_function", "function_name"),
    "alerts_function": ("aws_lambda_function", "function_name"),
    # The KCL application's lease table (also its ECS service: test_alerts_kcl_is_named_...).
    "alerts_kcl_application": ("aws_dynamodb_table", "name"),
    "alerts_kcl_coordinator_table": ("aws_dynamodb_table", "name"),
    "alerts_kcl_worker_metrics_table": ("aws_dynamodb_table", "name"),
    "firehose_transform_function": ("aws_lambda_function", "function_name"),
    "ingest_function": ("aws_lambda_function", "function_name"),
    "grid_metrics_function": ("aws_lambda_function", "function_name"),
    "state_machine": ("aws_sfn_state_machine", "name"),
    "glue_database": ("aws_glue_catalog_database", "name"),
    "athena_workgroup": ("aws_athena_workgroup", "name"),
}
PREFIXES = {
    "raw_readings_prefix", "errors_prefix", "raw_treatments_prefix", "treatment_errors_prefix",
    "raw_erasures_prefix", "erasure_errors_prefix", "curated_prefix", "marts_prefix",
}  # fmt: skip


class Dataset(NamedTuple):
    """One dataset Firehose delivers into the raw zone: where from, where to, through what."""

    key: str  # its instance key in modules/lake/firehose.tf (local.deliveries)
    stream: str
    delivery_stream: str
    raw_prefix: str
    errors_prefix: str
    table: str
    glue_schema: Path  # generated from the Avro contract


DATASETS = (
    Dataset(
        "readings",
        NAMES.readings_stream,
        NAMES.firehose_delivery_stream,
        NAMES.raw_readings_prefix,
        NAMES.errors_prefix,
        "raw_readings",
        REPO_ROOT / "schemas" / "glucose_reading.glue.json",
    ),
    Dataset(
        "treatments",
        NAMES.treatments_stream,
        NAMES.treatments_delivery_stream,
        NAMES.raw_treatments_prefix,
        NAMES.treatment_errors_prefix,
        "raw_treatments",
        REPO_ROOT / "schemas" / "glucose_treatment.glue.json",
    ),
    Dataset(
        "erasures",
        NAMES.erasures_stream,
        NAMES.erasures_delivery_stream,
        NAMES.raw_erasures_prefix,
        NAMES.erasure_errors_prefix,
        "raw_erasures",
        REPO_ROOT / "schemas" / "glucose_reading_erasure.glue.json",
    ),
)
"""Every delivery stream (ResourceNames): the tests below check each, and that there are no more."""


def values(plan: dict[str, Any], type_: str, attribute: str) -> set[str]:
    return {r["after"][attribute] for r in planned_resources(plan, type_)}


def one(plan: dict[str, Any], type_: str) -> dict[str, Any]:
    (resource,) = planned_resources(plan, type_)
    return resource["after"]


# --- names ----------------------------------------------------------------------------------------


def test_every_settings_name_is_mapped_to_a_resource() -> None:
    """A name added to ResourceNames must be deployed (and added to NAMED_RESOURCES)."""
    assert set(NAMES.as_dict()) - {"env"} == set(NAMED_RESOURCES) | PREFIXES


@pytest.mark.parametrize("name", sorted(NAMED_RESOURCES))
def test_resource_name_equals_settings(plan: dict[str, Any], name: str) -> None:
    type_, attribute = NAMED_RESOURCES[name]
    assert getattr(NAMES, name) in values(plan, type_, attribute)


def test_every_named_resource_is_prefixed(plan: dict[str, Any]) -> None:
    named = [
        (r["address"], r["after"].get(attribute))
        for type_, attribute in {
            **{t: a for t, a in NAMED_RESOURCES.values()},
            "aws_iam_role": "name",
            "aws_cloudwatch_metric_alarm": "alarm_name",
            "aws_ecs_cluster": "name",
            "aws_api_gateway_rest_api": "name",
        }.items()
        for r in planned_resources(plan, type_)
    ]
    assert len(named) > 30
    wrong = [(a, n) for a, n in named if not str(n).startswith((NAMES.prefix, "gs_dev_"))]
    assert not wrong


# --- Lambda functions and the settings they read --------------------------------------------------


def functions(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["after"]["function_name"]: r for r in planned_resources(plan, "aws_lambda_function")}


def handler_module(handler: str) -> tuple[str, str, Path]:
    module, _, function = handler.rpartition(".")
    return module, function, REPO_ROOT / (module.replace(".", "/") + ".py")


def has_unknown(marks: Any) -> bool:
    """Whether a plan's ``after_unknown`` structure marks anything unknown."""
    if isinstance(marks, dict):
        return any(has_unknown(v) for v in marks.values())
    if isinstance(marks, list):
        return any(has_unknown(v) for v in marks)
    return marks is True


def environment(function: dict[str, Any]) -> dict[str, str]:
    assert not has_unknown(function["unknown"].get("environment")), "unknown at plan time"
    (env,) = function["after"]["environment"]
    return dict(env["variables"])


def test_every_handler_is_deployed(plan: dict[str, Any]) -> None:
    deployed = {
        handler_module(f["after"]["handler"])[2].relative_to(REPO_ROOT).parts[1]
        for f in functions(plan).values()
    }
    handlers = {p.parent.name for p in (REPO_ROOT / "consumers").glob("*/handler.py")}
    assert handlers <= deployed


def test_deployed_handlers_exist(plan: dict[str, Any]) -> None:
    deployed = functions(plan).values()
    assert deployed
    for function in deployed:
        _, name, path = handler_module(function["after"]["handler"])
        assert path.is_file(), path
        tree = ast.parse(path.read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert name in defined, f"{path} defines no {name}"


ENV_READ = re.compile(r"""os\.(?:environ\[|environ\.get\(|getenv\()\s*["']([A-Z0-9_]+)["']""")
ENV_DEFAULT = re.compile(r"""os\.environ\.setdefault\(\s*["']([A-Z0-9_]+)["']""")


def settings_classes(module_name: str) -> list[type[BaseSettings]]:
    """The pydantic-settings classes a handler module uses (imported into its namespace)."""
    module = importlib.import_module(module_name)
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, BaseSettings) and value is not BaseSettings
    ]


def env_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    return {f"{prefix}{field}".upper() for field in cls.model_fields}


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Replace the process's GS_* variables with one function's environment."""

    def apply(env: dict[str, str]) -> None:
        import os

        for name in [n for n in os.environ if n.startswith("GS_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)

    return apply


def test_each_function_reads_only_variables_it_is_given(plan: dict[str, Any]) -> None:
    """os.environ reads in a handler are set by Terraform or defaulted by the handler."""
    checked = 0
    for function in functions(plan).values():
        module, _, path = handler_module(function["after"]["handler"])
        source = path.read_text()
        unset = (
            set(ENV_READ.findall(source))
            - set(environment(function))
            - set(ENV_DEFAULT.findall(source))
        )
        assert not unset, f"{module} reads {unset}, not set by Terraform"
        checked += 1
    assert checked >= 4


def test_required_variables_are_settings_fields() -> None:
    assert env_names(Settings) >= REQUIRED_IN_AWS


def test_alerts_consumer_gets_the_staleness_bound(plan: dict[str, Any]) -> None:
    (consumer,) = [
        f for f in functions(plan).values() if f["after"]["handler"].startswith("consumers.alerts")
    ]
    assert environment(consumer)["GS_ALERT_STALENESS_MINUTES"] == "15"


def test_gs_variables_name_settings_fields(plan: dict[str, Any]) -> None:
    """Every GS_* variable Terraform sets is a field of a settings class the handler loads."""
    deployed = functions(plan).values()
    assert deployed
    for function in deployed:
        module, _, _ = handler_module(function["after"]["handler"])
        known = set().union(*(env_names(c) for c in settings_classes(module)))
        given = {n for n in environment(function) if n.startswith("GS_")}
        assert given <= known, f"{module}: {given - known} are not settings fields"


def test_functions_that_load_settings_get_a_valid_aws_configuration(
    plan: dict[str, Any], lambda_env: Any
) -> None:
    loaded = 0
    for function in functions(plan).values():
        module, _, _ = handler_module(function["after"]["handler"])
        if Settings not in settings_classes(module):
            continue
        assert set(environment(function)) >= REQUIRED_IN_AWS, module
        lambda_env(environment(function))
        settings = Settings()
        assert (settings.mode, settings.env, settings.region) == ("aws", "dev", REGION)
        assert settings.names == NAMES
        for topic in (NAMES.alerts_topic, NAMES.pipeline_topic):
            assert settings.topic_arn(topic) == f"arn:aws:sns:{REGION}:123456789012:{topic}"
        loaded += 1
    assert loaded >= 3  # alerts, pipeline, ingest


def test_ingest_function_accepts_the_deployed_api_keys(
    plan: dict[str, Any], lambda_env: Any
) -> None:
    """In aws mode the ingest API refuses every request unless GS_INGEST_API_KEYS is set."""
    from glucosestream.ingest.api.config import IngestSettings

    rehearsal_key = "rehearsal-api-key-0123456789"  # moto_rehearsal.INGEST_KEY
    (ingest,) = [
        f for f in functions(plan).values() if f["after"]["handler"].startswith("consumers.ingest")
    ]
    lambda_env(environment(ingest))
    registry = IngestSettings().api_key_registry(Settings())
    principal = registry.authenticate(rehearsal_key)
    assert principal is not None
    assert principal.tenant == "rehearsal"
    assert registry.authenticate("another-key-0123456789") is None


# --- the SQS feeds and the dashboard's live view ------------------------------------------------

FEED_QUEUES = {
    # feed key in modules/alerting → the ResourceNames queue (topics: checked by the rehearsal)
    "alerts": NAMES.alerts_feed_queue,
    "dashboard_alerts": NAMES.dashboard_alerts_queue,
    "pipeline": NAMES.pipeline_feed_queue,
}


def by_address(plan: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {r["address"]: r for r in planned_resources(plan, type_)}


def test_every_feed_is_an_encrypted_subscribed_queue(plan: dict[str, Any]) -> None:
    """Each feed (the dashboard's own queue included) is built alike: KMS, 4 days, a queue
    policy for SNS, a raw-delivery subscription."""
    queues = by_address(plan, "aws_sqs_queue")
    policies = by_address(plan, "aws_sqs_queue_policy")
    subscriptions = by_address(plan, "aws_sns_topic_subscription")
    for key, name in FEED_QUEUES.items():
        queue = queues[f'module.alerting.aws_sqs_queue.feed["{key}"]']
        assert queue["after"]["name"] == name
        assert queue["after"]["message_retention_seconds"] == 345600
        assert queue["unknown"].get("kms_master_key_id") or queue["after"]["kms_master_key_id"]
        assert f'module.alerting.aws_sqs_queue_policy.feed["{key}"]' in policies
        subscription = subscriptions[f'module.alerting.aws_sns_topic_subscription.feed["{key}"]']
        assert subscription["after"]["protocol"] == "sqs"
        assert subscription["after"]["raw_message_delivery"] is True


SQS_BATCH_PERMISSIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
"""SQS's batch actions have no IAM actions of their own: the single action's permission grants
them (SQS Developer Guide, "Amazon SQS batch actions", Permissions)."""


class _RecordingClient:
    """A boto3 client stand-in that records each call (service, operation, resource name)."""

    def __init__(self, service: str, calls: list[tuple[str, str, str]], stop: Any) -> None:
        self.service = service
        self.calls = calls
        self.stop = stop

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            resource = kwargs.get("StreamName") or kwargs.get("QueueName") or ""
            if "QueueUrl" in kwargs:
                resource = kwargs["QueueUrl"].rsplit("/", 1)[-1]
            if operation == "get_records":
                resource = NAMES.readings_stream  # the iterator belongs to the stream
            action = "".join(part.title() for part in operation.split("_"))
            if self.service == "sqs":
                action = SQS_BATCH_PERMISSIONS.get(action, action)
            self.calls.append((self.service, action, resource))
            if operation == "receive_message":
                self.stop()  # one pass of the live loop
            responses: dict[str, dict[str, Any]] = {
                "list_shards": {"Shards": [{"ShardId": "shardId-000000000000"}]},
                "get_shard_iterator": {"ShardIterator": "iterator-1"},
                "get_records": {"Records": [], "NextShardIterator": "iterator-2"},
                "get_queue_url": {"QueueUrl": f"https://sqs.example/123/{resource}"},
                "receive_message": {"Messages": [{"Body": "{}", "ReceiptHandle": "r-1"}]},
            }
            return responses.get(operation, {})

        return call


def live_view_calls() -> set[tuple[str, str]]:
    """(IAM action, resource name) of one pass of the dashboard's live loop in aws mode for
    env "dev": what glucosestream/dashboard/live.py calls, whatever it calls through."""
    from glucosestream.dashboard.live import LiveFeed

    settings = Settings(env="dev", mode="aws", region=REGION, pseudonym_key=SecretStr("k" * 32))
    calls: list[tuple[str, str, str]] = []
    holder: dict[str, LiveFeed] = {}
    feed = LiveFeed(
        settings,
        poll_s=0,
        client_factory=lambda service: _RecordingClient(
            service, calls, lambda: holder["feed"]._stop.set()
        ),
    )
    holder["feed"] = feed
    feed._follow()
    return {(f"{service}:{action}", resource) for service, action, resource in calls}


def test_live_view_calls_are_the_expected_ones() -> None:
    """If live.py starts calling more (or other resources), the grant below must follow."""
    assert live_view_calls() == {
        ("kinesis:ListShards", NAMES.readings_stream),
        ("kinesis:GetShardIterator", NAMES.readings_stream),
        ("kinesis:GetRecords", NAMES.readings_stream),
        ("sqs:GetQueueUrl", NAMES.dashboard_alerts_queue),
        ("sqs:ReceiveMessage", NAMES.dashboard_alerts_queue),
        ("sqs:DeleteMessage", NAMES.dashboard_alerts_queue),
    }


def test_dashboard_live_view_grants_exactly_what_it_calls(plan: dict[str, Any]) -> None:
    (live,) = [
        r
        for r in planned_resources(plan, "aws_iam_role_policy")
        if r["address"].startswith("module.dashboard") and r["after"].get("name") == "live-view"
    ]
    assert not live["unknown"].get("policy"), "the live-view policy is unknown at plan time"
    account = "123456789012"
    arns = {
        NAMES.readings_stream: f"arn:aws:kinesis:{REGION}:{account}:stream/{NAMES.readings_stream}",
        NAMES.dashboard_alerts_queue: f"arn:aws:sqs:{REGION}:{account}:"
        f"{NAMES.dashboard_alerts_queue}",
    }
    granted = set()
    for statement in json.loads(live["after"]["policy"])["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                granted.add((action, resource))
    assert granted == {(action, arns[name]) for action, name in live_view_calls()}


# --- the dashboard's privacy ledger and its container ---------------------------------------------


def dashboard_resource(plan: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in planned_resources(plan, type_)
        if r["address"].startswith("module.dashboard") and r["address"].endswith(f".{name}")
    ]
    return found


def test_privacy_ledger_table_has_the_adapters_key_pitr_and_kms(plan: dict[str, Any]) -> None:
    from glucosestream.adapters.privacy_ledger import HASH_KEY, RANGE_KEY

    table = dashboard_resource(plan, "aws_dynamodb_table", "privacy_ledger")
    after = table["after"]
    assert after["name"] == NAMES.privacy_ledger_table
    assert (after["hash_key"], after["range_key"]) == (HASH_KEY, RANGE_KEY)
    assert {(a["name"], a["type"]) for a in after["attribute"]} == {
        (HASH_KEY, "S"),
        (RANGE_KEY, "S"),
    }
    assert after["billing_mode"] == "PAY_PER_REQUEST"
    assert after["point_in_time_recovery"][0]["enabled"] is True
    (sse,) = after["server_side_encryption"]
    assert sse["enabled"] is True
    assert sse.get("kms_key_arn") or table["unknown"]["server_side_encryption"][0]["kms_key_arn"]


def privacy_ledger_calls() -> set[tuple[str, str]]:
    """(IAM action, table) of a balance read and a charge by the aws-mode ledger for env dev."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from glucosestream.dashboard.resources import ledger_for

    calls: list[tuple[str, str]] = []

    class Recording:
        class exceptions:  # noqa: N801 (boto3's attribute name)
            ConditionalCheckFailedException = type("Failed", (Exception,), {})

        def __getattr__(self, operation: str) -> Any:
            def call(**kwargs: Any) -> dict[str, Any]:
                action = "".join(part.title() for part in operation.split("_"))
                calls.append((f"dynamodb:{action}", kwargs["TableName"]))
                return {"Attributes": {"spent": {"N": "0.5"}, "releases": {"N": "1"}}}

            return call

    settings = Settings(env="dev", mode="aws", region=REGION, pseudonym_key=SecretStr("k" * 32))
    ledger = ledger_for(settings)
    ledger.client = Recording()  # type: ignore[attr-defined]
    ledger.balance("user", datetime.now(UTC))
    ledger.charge("user", Decimal("0.5"), datetime.now(UTC))
    return set(calls)


def test_dashboard_privacy_ledger_grants_exactly_what_the_ledger_calls(
    plan: dict[str, Any],
) -> None:
    policy = dashboard_resource(plan, "aws_iam_role_policy", "ledger")
    assert policy["after"]["name"] == "privacy-ledger"
    assert not policy["unknown"].get("policy"), "the ledger policy is unknown at plan time"
    table_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{NAMES.privacy_ledger_table}"
    granted = set()
    for statement in json.loads(policy["after"]["policy"])["Statement"]:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                granted.add((action, resource))
    calls = privacy_ledger_calls()
    assert calls == {
        ("dynamodb:GetItem", NAMES.privacy_ledger_table),
        ("dynamodb:UpdateItem", NAMES.privacy_ledger_table),
    }
    assert granted == {(action, table_arn) for action, _ in calls}


def test_dashboard_health_check_opens_no_session(plan: dict[str, Any]) -> None:
    """The ALB probes the route the image's HEALTHCHECK probes (no Bokeh session, no query);
    the container's environment is checked after apply (test_rehearsal.py): at plan time the
    task definition is unknown (image, secret and log group are)."""
    from glucosestream.dashboard.healthcheck import HEALTH_PATH

    group = dashboard_resource(plan, "aws_lb_target_group", "this")
    assert group["after"]["health_check"][0]["path"] == HEALTH_PATH
    assert group["after"]["health_check"][0]["matcher"] == "200"


# --- the alerts consumer's event-source mapping ---------------------------------------------------


def test_event_source_mapping_matches_the_local_mapping(plan: dict[str, Any]) -> None:
    mapping = one(plan, "aws_lambda_event_source_mapping")
    assert mapping["batch_size"] == ALERTS_MAPPING.batch_size
    assert mapping["maximum_batching_window_in_seconds"] == ALERTS_MAPPING.maximum_batching_window_s
    assert (
        mapping["bisect_batch_on_function_error"] is ALERTS_MAPPING.bisect_batch_on_function_error
    )
    assert mapping["maximum_retry_attempts"] == ALERTS_MAPPING.maximum_retry_attempts
    assert mapping["maximum_record_age_in_seconds"] == ALERTS_MAPPING.maximum_record_age_s
    assert mapping["starting_position"] == ALERTS_MAPPING.starting_position
    assert ALERTS_MAPPING.report_batch_item_failures
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["parallelization_factor"] == 1
    # Bounded: a poison record cannot stall its shard for the stream's whole retention.
    assert mapping["maximum_retry_attempts"] >= 0
    assert mapping["maximum_record_age_in_seconds"] > 0


def test_on_failure_destination_is_the_dlq(plan: dict[str, Any]) -> None:
    (mapping,) = planned_resources(plan, "aws_lambda_event_source_mapping")
    assert mapping["unknown"]["destination_config"][0]["on_failure"][0]["destination_arn"]
    text = (REPO_ROOT / "terraform/modules/alerting/main.tf").read_text()
    block = text[text.index('resource "aws_lambda_event_source_mapping"') :]
    assert "destination_arn = aws_sqs_queue.dlq.arn" in block.split("\n}\n")[0]
    assert NAMES.alerts_dlq in values(plan, "aws_sqs_queue", "name")


# --- Firehose into the raw zone -------------------------------------------------------------------


def delivery_streams(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["after"]["name"]: r
        for r in planned_resources(plan, "aws_kinesis_firehose_delivery_stream")
    }


def test_there_is_one_delivery_stream_per_dataset(plan: dict[str, Any]) -> None:
    streams = delivery_streams(plan)
    assert set(streams) == {d.delivery_stream for d in DATASETS}
    for dataset in DATASETS:
        address = f'module.lake.aws_kinesis_firehose_delivery_stream.this["{dataset.key}"]'
        assert streams[dataset.delivery_stream]["address"] == address


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.key)
def test_the_transform_picks_the_table_by_delivery_stream(
    plan: dict[str, Any], dataset: Dataset
) -> None:
    """The one transform Lambda picks the contract by the event's deliveryStreamArn: an event of
    each planned delivery stream is read as its dataset's raw table."""
    from glucosestream.lake.raw_zone.transform import raw_table_of

    stream = delivery_streams(plan)[dataset.delivery_stream]["after"]
    arn = f"arn:aws:firehose:{REGION}:123456789012:deliverystream/{stream['name']}"
    assert raw_table_of({"deliveryStreamArn": arn}).table == dataset.table


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.key)
def test_firehose_matches_the_local_delivery(plan: dict[str, Any], dataset: Dataset) -> None:
    stream = delivery_streams(plan)[dataset.delivery_stream]["after"]
    (s3,) = stream["extended_s3_configuration"]
    assert s3["prefix"] == (
        f"{dataset.raw_prefix}dt=!{{partitionKeyFromLambda:dt}}/hour=!{{partitionKeyFromLambda:hour}}/"
    )
    assert s3["error_output_prefix"] == (
        f"{dataset.errors_prefix}dt=!{{timestamp:yyyy-MM-dd}}/hour=!{{timestamp:HH}}"
        "/!{firehose:error-output-type}/"
    )
    assert s3["buffering_size"] * 1024 * 1024 == local_firehose.DEFAULT_BUFFER_BYTES
    assert s3["buffering_size"] >= 64  # required with format conversion
    assert s3["buffering_interval"] == local_firehose.DEFAULT_BUFFER_SECONDS
    assert s3["dynamic_partitioning_configuration"][0]["enabled"] is True
    assert s3["cloudwatch_logging_options"][0]["enabled"] is True
    ((processor,),) = [p["processors"] for p in s3["processing_configuration"]]
    assert processor["type"] == "Lambda"
    parameters = {p["parameter_name"]: p.get("parameter_value") for p in processor["parameters"]}
    assert set(parameters) == {
        "LambdaArn",
        "BufferSizeInMBs",
        "BufferIntervalInSeconds",
        "NumberOfRetries",
    }
    assert float(parameters["BufferSizeInMBs"]) * 1024 * 1024 == (
        local_firehose.DEFAULT_INVOCATION_BYTES
    )
    assert int(parameters["NumberOfRetries"]) == local_firehose.DEFAULT_TRANSFORM_RETRIES
    (conversion,) = s3["data_format_conversion_configuration"]
    (hive,) = conversion["input_format_configuration"][0]["deserializer"][0]["hive_json_ser_de"]
    assert tuple(hive["timestamp_formats"]) == HIVE_JSON_TIMESTAMP_FORMATS
    (schema,) = conversion["schema_configuration"]
    assert (schema["database_name"], schema["table_name"]) == (NAMES.glue_database, dataset.table)


def module_calls(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """envs/dev's module calls as the plan's configuration section has them (references)."""
    return dict(plan["configuration"]["root_module"]["module_calls"])


def references(call: dict[str, Any], variable: str) -> list[str]:
    return list(call["expressions"][variable]["references"])


def test_each_delivery_stream_reads_its_own_stream(plan: dict[str, Any]) -> None:
    """The stream ARNs are unknown at plan time: the wiring is read from the configuration (the
    rehearsal reads back the deployed sources, test_rehearsal.py)."""
    calls = module_calls(plan)
    assert "local.names.readings_stream" in references(calls["stream"], "stream_name")
    assert "local.names.treatments_stream" in references(calls["treatments_stream"], "stream_name")
    assert "local.names.erasures_stream" in references(calls["erasures_stream"], "stream_name")
    lake = calls["lake"]
    wiring = {
        "stream_arn": "module.stream.stream_arn",
        "delivery_stream_name": "local.names.firehose_delivery_stream",
        "treatments_stream_arn": "module.treatments_stream.stream_arn",
        "treatments_delivery_stream_name": "local.names.treatments_delivery_stream",
        "erasures_stream_arn": "module.erasures_stream.stream_arn",
        "erasures_delivery_stream_name": "local.names.erasures_delivery_stream",
    }
    for variable, reference in wiring.items():
        assert reference in references(lake, variable), variable


def test_the_delivery_streams_share_one_transform_and_the_buffering(plan: dict[str, Any]) -> None:
    """Defined once (for_each): everything but the dataset's names and prefixes is equal."""
    configurations = []
    for stream in delivery_streams(plan).values():
        (s3,) = stream["after"]["extended_s3_configuration"]
        configurations.append(
            (
                s3["buffering_size"],
                s3["buffering_interval"],
                json.dumps(s3["processing_configuration"], sort_keys=True),
                json.dumps(
                    s3["data_format_conversion_configuration"][0]["output_format_configuration"],
                    sort_keys=True,
                ),
            )
        )
    assert len(configurations) == len(DATASETS)
    assert len(set(configurations)) == 1
    (transform,) = [
        r
        for r in planned_resources(plan, "aws_lambda_function")
        if r["after"]["function_name"] == NAMES.firehose_transform_function
    ]
    assert transform["address"] == "module.lake.module.transform.aws_lambda_function.this"


def test_every_delivery_stream_has_its_alarms_and_log_group(plan: dict[str, Any]) -> None:
    alarms = {
        (r["after"]["metric_name"], r["after"]["dimensions"].get("DeliveryStreamName"))
        for r in planned_resources(plan, "aws_cloudwatch_metric_alarm")
        if r["after"]["namespace"] == "AWS/Firehose"
    }
    assert alarms == {
        (metric, d.delivery_stream)
        for d in DATASETS
        for metric in ("DeliveryToS3.Success", "FailedConversion.Records")
    }
    groups = values(plan, "aws_cloudwatch_log_group", "name")
    assert {f"/aws/kinesisfirehose/{d.delivery_stream}" for d in DATASETS} <= groups
    roles = values(plan, "aws_iam_role", "name")
    assert {f"{d.delivery_stream}-firehose" for d in DATASETS} <= roles


def kinesis_streams(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["after"]["name"]: r for r in planned_resources(plan, "aws_kinesis_stream")}


# The streams besides the readings': envs/dev module call → its name. Few records (a few
# treatments per patient a day, erasures rarer still): one provisioned shard each.
SMALL_STREAMS = {
    "treatments_stream": NAMES.treatments_stream,
    "erasures_stream": NAMES.erasures_stream,
}


def test_every_stream_is_encrypted_and_retained_as_the_readings_stream(
    plan: dict[str, Any],
) -> None:
    streams = kinesis_streams(plan)
    assert set(streams) == {d.stream for d in DATASETS}
    assert set(streams) == {NAMES.readings_stream, *SMALL_STREAMS.values()}
    readings = streams[NAMES.readings_stream]
    for stream in streams.values():
        assert stream["after"]["encryption_type"] == "KMS"
        assert stream["unknown"]["kms_key_id"]  # the environment's key (module.kms)
    for name in SMALL_STREAMS.values():
        small = streams[name]["after"]
        assert small["retention_period"] == readings["after"]["retention_period"], name
        assert small["shard_level_metrics"] == readings["after"]["shard_level_metrics"], name
        assert small["stream_mode_details"] == [{"stream_mode": "PROVISIONED"}], name
        assert small["shard_count"] == 1, name
    calls = module_calls(plan)
    for key in ("stream", *SMALL_STREAMS):
        assert "module.kms.key_arn" in references(calls[key], "kms_key_arn"), key
        assert "local.stream_retention_hours" in references(calls[key], "retention_hours"), key
    for key, name in SMALL_STREAMS.items():
        assert f"local.names.{key}" in references(calls[key], "stream_name")
        assert name == getattr(NAMES, key)


def test_every_dataset_has_its_lifecycle_rules(plan: dict[str, Any]) -> None:
    """Each dataset's raw zone moves to Standard-IA and its error records expire, alike."""
    (lifecycle,) = [
        r["after"]
        for r in planned_resources(plan, "aws_s3_bucket_lifecycle_configuration")
        if r["address"] == "module.lake.aws_s3_bucket_lifecycle_configuration.lake"
    ]
    by_prefix = {
        rule["filter"][0]["prefix"]: rule
        for rule in lifecycle["rule"]
        if rule["filter"] and rule["filter"][0].get("prefix")
    }
    transitions, expirations = set(), set()
    for dataset in DATASETS:
        raw = by_prefix[dataset.raw_prefix]
        assert raw["status"] == "Enabled"
        (transition,) = raw["transition"]
        assert transition["storage_class"] == "STANDARD_IA"
        transitions.add(transition["days"])
        assert not raw["expiration"], "raw records are never expired"
        errors = by_prefix[dataset.errors_prefix]
        assert errors["status"] == "Enabled"
        (expiration,) = errors["expiration"]
        expirations.add(expiration["days"])
    assert len(transitions) == 1
    assert len(expirations) == 1


# --- Glue tables ----------------------------------------------------------------------------------


def ddl_columns(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(columns, partition keys) of one DDL file, parsed by sqlglot (an independent reading)."""
    text = path.read_text().replace("${database}", "db")
    create = sqlglot.parse_one(text, read="athena")
    schema = create.this
    assert isinstance(schema, exp.Schema)
    columns = [(c.name, c.args["kind"].sql("hive").lower()) for c in schema.expressions]
    partitioned = create.find(exp.PartitionedByProperty)
    assert partitioned is not None
    keys = [(c.name, c.args["kind"].sql("hive").lower()) for c in partitioned.this.expressions]
    return columns, keys


def glue_tables(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        r["after"]["name"]: r["after"] for r in planned_resources(plan, "aws_glue_catalog_table")
    }


@pytest.mark.parametrize(
    "ddl", sorted((REPO_ROOT / "sql" / "ddl").glob("*.sql")), ids=lambda p: p.stem
)
def test_glue_table_has_the_ddl_columns(plan: dict[str, Any], ddl: Path) -> None:
    table = glue_tables(plan)[ddl.stem]
    (storage,) = table["storage_descriptor"]
    columns, keys = ddl_columns(ddl)
    assert [(c["name"], c["type"]) for c in storage["columns"]] == columns
    assert [(k["name"], k["type"]) for k in table["partition_keys"]] == keys
    assert table["database_name"] == NAMES.glue_database
    projection = {k for k in table["parameters"] if k.startswith("projection.")}
    if ddl.stem.startswith("raw_"):  # Firehose writes its partitions: projected
        assert table["parameters"]["projection.enabled"] == "true"
    else:  # the pipeline registers its partitions at versioned prefixes
        assert projection == set()
    assert storage["location"].startswith(f"s3://{NAMES.lake_bucket}/")


def test_every_raw_table_is_delivered() -> None:
    """Each sql/ddl/raw_*.sql is the table of a delivery stream (Firehose is what writes it)."""
    raw = {p.stem for p in (REPO_ROOT / "sql" / "ddl").glob("raw_*.sql")}
    assert raw == {d.table for d in DATASETS}


def test_the_datasets_are_the_raw_zones_tables_and_deliveries() -> None:
    """DATASETS (written out here) agrees with the raw zone's own list: each of its tables is a
    dataset, delivered from the stream into the prefixes glucosestream.lake.raw_zone names."""
    from glucosestream.lake.raw_zone.schema import RAW_TABLES, delivery_of

    by_table = {d.table: d for d in DATASETS}
    assert set(by_table) == {t.table for t in RAW_TABLES}
    for raw_table in RAW_TABLES:
        dataset = by_table[raw_table.table]
        delivery = delivery_of(NAMES, raw_table)
        assert (dataset.stream, dataset.delivery_stream) == (
            delivery.stream,
            delivery.delivery_stream,
        )
        assert (dataset.raw_prefix, dataset.errors_prefix) == (
            delivery.raw_prefix,
            delivery.errors_prefix,
        )
        assert dataset.glue_schema == raw_table.glue_file


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.key)
def test_raw_table_is_the_generated_glue_schema(plan: dict[str, Any], dataset: Dataset) -> None:
    generated = json.loads(dataset.glue_schema.read_text())
    table = glue_tables(plan)[dataset.table]
    (storage,) = table["storage_descriptor"]
    assert [(c["name"], c["type"]) for c in storage["columns"]] == [
        (c["Name"], c["Type"]) for c in generated["columns"]
    ]
    # Column comments come from the same generated file (absent where it has none).
    assert [c.get("comment") for c in storage["columns"]] == [
        c.get("Comment") for c in generated["columns"]
    ]
    assert any(c.get("Comment") for c in generated["columns"])
    assert [k["name"] for k in table["partition_keys"]] == ["dt", "hour"]
    assert storage["location"] == f"s3://{NAMES.lake_bucket}/{dataset.raw_prefix}"
    projection = {k: v for k, v in table["parameters"].items() if k.startswith("projection.")}
    assert projection["projection.dt.type"] == "date"
    assert projection["projection.hour.type"] == "integer"


def test_curated_and_marts_locations(plan: dict[str, Any]) -> None:
    tables = glue_tables(plan)
    assert set(tables) >= {
        "raw_readings",
        "raw_treatments",
        "raw_erasures",
        "curated_readings",
        "curated_treatments",
        "patient_daily_metrics",
        "patient_period_metrics",
        "agp_profile",
        "glycemic_episodes",
    }
    for name, table in tables.items():
        location = table["storage_descriptor"][0]["location"]
        if name.startswith("raw_"):
            assert location == f"s3://{NAMES.lake_bucket}/raw/{name.removeprefix('raw_')}/"
        elif name.startswith("curated_"):
            assert location == (
                f"s3://{NAMES.lake_bucket}/{NAMES.curated_prefix}{name.removeprefix('curated_')}/"
            )
        else:
            assert location == f"s3://{NAMES.lake_bucket}/{NAMES.marts_prefix}{name}/"


def test_athena_workgroup_is_enforced_encrypted_and_capped(plan: dict[str, Any]) -> None:
    (config,) = one(plan, "aws_athena_workgroup")["configuration"]
    assert config["enforce_workgroup_configuration"] is True
    assert config["bytes_scanned_cutoff_per_query"] > 0
    (results,) = config["result_configuration"]
    assert results["output_location"] == f"s3://{NAMES.athena_results_bucket}/"
    assert results["encryption_configuration"][0]["encryption_option"] == "SSE_KMS"


# --- the state machine ----------------------------------------------------------------------------


def test_asl_has_placeholders() -> None:
    """The placeholder set is read from the file at test time (it changes with the pipeline)."""
    assert PLACEHOLDER.findall(ASL_PATH.read_text())


def test_state_machine_definition_is_the_asl_with_every_placeholder_filled(
    plan: dict[str, Any],
) -> None:
    definition = one(plan, "aws_sfn_state_machine")["definition"]
    assert not PLACEHOLDER.search(definition)
    rendered = json.loads(definition)
    template = json.loads(ASL_PATH.read_text())
    assert rendered["States"].keys() == template["States"].keys()
    # Every placeholder's position now holds a real value.
    filled = json.dumps(rendered)
    function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{NAMES.pipeline_function}"
    expected = {
        "pipeline_function_arn": function_arn,
        "pipeline_topic_arn": f"arn:aws:sns:{REGION}:123456789012:{NAMES.pipeline_topic}",
        "glue_database": NAMES.glue_database,
        "athena_workgroup": NAMES.athena_workgroup,
    }
    assert expected.keys() <= set(PLACEHOLDER.findall(ASL_PATH.read_text()))
    for name, value in expected.items():
        assert value in filled, name


def test_state_machine_logs_and_traces(plan: dict[str, Any]) -> None:
    machine = one(plan, "aws_sfn_state_machine")
    assert machine["logging_configuration"][0]["level"] == "ALL"
    assert machine["tracing_configuration"][0]["enabled"] is True
    schedule = one(plan, "aws_scheduler_schedule")
    assert schedule["schedule_expression"].startswith(("rate(", "cron("))


# --- alarms ---------------------------------------------------------------------------------------


def test_the_alarms_the_issue_asks_for(plan: dict[str, Any]) -> None:
    metrics = {
        (r["after"]["namespace"], r["after"]["metric_name"])
        for r in planned_resources(plan, "aws_cloudwatch_metric_alarm")
    }
    assert {
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Firehose", "DeliveryToS3.Success"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/Lambda", "Errors"),
    } <= metrics


def test_lambda_errors_alarm_for_every_function(plan: dict[str, Any]) -> None:
    alarmed = {
        r["after"]["dimensions"].get("FunctionName")
        for r in planned_resources(plan, "aws_cloudwatch_metric_alarm")
        if r["after"]["metric_name"] == "Errors"
    }
    assert set(functions(plan)) <= alarmed


# --- alert settings and acknowledgements ----------------------------------------------------------


def alert_controls_calls() -> set[tuple[str, str]]:
    """(IAM action, table) of a settings change and an acknowledgement in aws mode (env dev):
    what PatientAlertControls calls through the DynamoDB state store."""
    from glucosestream.adapters.patient_state import PatientStateStore
    from glucosestream.alerts.patient_controls import PatientAlertControls
    from glucosestream.domain.alerts.acknowledgement import UnknownAlert

    calls: set[tuple[str, str]] = set()

    class Recording:
        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
            calls.update(("dynamodb:BatchGetItem", table) for table in RequestItems)
            return {"Responses": {}}

        def put_item(self, TableName: str, **_: Any) -> dict[str, Any]:  # noqa: N803
            calls.add(("dynamodb:PutItem", TableName))
            return {}

    controls = PatientAlertControls(PatientStateStore(Recording(), NAMES.patient_state_table))
    controls.update_settings("p_" + "0" * 32, {"low_mg_dl": 80})
    with pytest.raises(UnknownAlert):
        controls.acknowledge("p_" + "0" * 32, "a" * 32, "test")
    return calls


def test_alert_controls_are_granted_exactly_what_they_call(plan: dict[str, Any]) -> None:
    """The dashboard's task gets exactly the calls PatientAlertControls makes, on the
    patient-state table only. (The ingest function's "AlertControls" statement names the table by
    the alerting module's output, unknown at plan time: terraform validate and checkov cover it.)"""
    calls = alert_controls_calls()
    assert calls == {
        ("dynamodb:BatchGetItem", NAMES.patient_state_table),
        ("dynamodb:PutItem", NAMES.patient_state_table),
    }
    table_arn = f"arn:aws:dynamodb:{REGION}:123456789012:table/{NAMES.patient_state_table}"
    (dashboard,) = [
        r
        for r in planned_resources(plan, "aws_iam_role_policy")
        if r["address"].startswith("module.dashboard")
        and r["after"].get("name") == "acknowledge-alerts"
    ]
    assert not dashboard["unknown"].get("policy"), "unknown at plan time"
    (statement,) = json.loads(dashboard["after"]["policy"])["Statement"]
    assert sorted(statement["Action"]) == sorted(action for action, _ in calls)
    assert statement["Resource"] == table_arn


def test_nightscout_table_has_the_adapters_keys_ttl_pitr_and_kms(plan: dict[str, Any]) -> None:
    (table,) = [
        r
        for r in planned_resources(plan, "aws_dynamodb_table")
        if r["after"]["name"] == NAMES.nightscout_table
    ]
    after = table["after"]
    assert (after["hash_key"], after["range_key"]) == ("patient_id", "doc_key")
    assert {(a["name"], a["type"]) for a in after["attribute"]} == {
        ("patient_id", "S"),
        ("doc_key", "S"),
    }
    assert after["ttl"] == [{"attribute_name": "expires_at", "enabled": True}]
    assert after["point_in_time_recovery"][0]["enabled"] is True
    assert after["server_side_encryption"][0]["enabled"] is True


# --- the KCL alerts consumer (modules/alerts_kcl) and the choice of alerts consumer ---------------

ACCOUNT = "123456789012"  # moto's account
KCL = NAMES.alerts_kcl_application
LEASE_OWNER_INDEX = "LeaseOwnerToLeaseKeyIndex"
"""The lease table's index KCL 3.x queries by owner (DynamoDBLeaseRefresher)."""


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def arn_of(action: str, name: str) -> str:
    """The ARN of the resource named ``name`` that ``action`` acts on (env dev, moto's account)."""
    service = action.split(":", 1)[0]
    if service == "dynamodb":
        return table_arn(name)
    if service == "kinesis":
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"
    if service == "sqs":
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    if service == "sns":
        return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
    raise AssertionError(action)


KCL_DAEMON_CALLS: set[tuple[str, str]] = {
    # Polling retrieval of the readings stream (no enhanced fan-out, so no consumer registration).
    *(
        (f"kinesis:{action}", arn_of("kinesis:", NAMES.readings_stream))
        for action in (
            "DescribeStream", "DescribeStreamSummary", "ListShards", "GetShardIterator",
            "GetRecords",
        )
    ),
    # DynamoDBLeaseRefresher on the lease table (the application name): find it and its index
    # (DescribeTable), list (Scan), read, create, renew/take/checkpoint, delete finished leases.
    *(
        (f"dynamodb:{action}", table_arn(KCL))
        for action in ("DescribeTable", "Scan", "GetItem", "PutItem", "UpdateItem", "DeleteItem")
    ),
    ("dynamodb:Query", f"{table_arn(KCL)}/index/{LEASE_OWNER_INDEX}"),
    # CoordinatorStateDAO (migration state) and the DynamoDB lock client's leader lock.
    *(
        (f"dynamodb:{action}", table_arn(NAMES.alerts_kcl_coordinator_table))
        for action in ("DescribeTable", "Scan", "GetItem", "PutItem", "UpdateItem", "DeleteItem")
    ),
    # WorkerMetricStatsDAO: a worker updates its item; the leader scans and deletes stale ones.
    *(
        (f"dynamodb:{action}", table_arn(NAMES.alerts_kcl_worker_metrics_table))
        for action in ("DescribeTable", "Scan", "UpdateItem", "DeleteItem")
    ),
}  # fmt: skip
"""What the KCL 3.1.3 MultiLangDaemon calls (read from its source: DynamoDBLeaseRefresher,
CoordinatorStateDAO, WorkerMetricStatsDAO, the lock client's acquire/heartbeat/release, polling
retrieval), with the three tables Terraform creates: no CreateTable, UpdateTable or
UpdateContinuousBackups, which the KCL calls only for a table or index it does not find. Its
cloudwatch:PutMetricData (no resource-level permission) is checked on its own below."""


class _ProcessorClient:
    """A boto3 client stand-in for the record processor: records (IAM action, resource name)."""

    class exceptions:  # noqa: N801 (boto3's attribute name)
        ConditionalCheckFailedException = type("ConditionalCheckFailed", (Exception,), {})

    def __init__(self, service: str, calls: set[tuple[str, str]]) -> None:
        self.service = service
        self.calls = calls

    def __getattr__(self, operation: str) -> Any:
        action = f"{self.service}:" + "".join(part.title() for part in operation.split("_"))

        def call(**kwargs: Any) -> dict[str, Any]:
            if operation == "batch_get_item":
                for table in kwargs["RequestItems"]:
                    self.calls.add((action, table))
                return {"Responses": {}}
            resource = (
                kwargs.get("TableName")
                or kwargs.get("QueueName")
                or str(kwargs.get("TopicArn", "")).rsplit(":", 1)[-1]
                or str(kwargs.get("QueueUrl", "")).rsplit("/", 1)[-1]
            )
            self.calls.add((action, resource))
            if operation == "get_queue_url":
                return {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{resource}"}
            return {"MessageId": "m-1"}

        return call


def kcl_container_settings() -> dict[str, str]:
    """The GS_* variables modules/alerts_kcl gives the container (test_rehearsal.py reads them
    back from the deployed task definition), the pseudonym key included (an ECS secret)."""
    return {
        "GS_ENV": "dev",
        "GS_MODE": "aws",
        "GS_REGION": REGION,
        "GS_ALERTS_TOPIC_ARN": arn_of("sns:", NAMES.alerts_topic),
        "GS_PIPELINE_TOPIC_ARN": arn_of("sns:", NAMES.pipeline_topic),
        "GS_ALERT_STALENESS_MINUTES": "15",
        "GS_PSEUDONYM_KEY": "k" * 32,
    }


def record_processor_calls(
    monkeypatch: pytest.MonkeyPatch, lambda_env: Any
) -> set[tuple[str, str]]:
    """(IAM action, resource name) of the record processor's composition root
    (consumers/alerts_kcl/processor.py main()) in aws mode, driven through kclpy's own protocol
    loop as the daemon drives it: a falling trace that pages (state read and written, alerts
    published) followed by an undecodable record (sent to the dead-letter queue)."""
    import base64
    import io

    from amazon_kclpy import kcl

    import consumers.alerts.handler as handler
    import glucosestream.adapters.clients as clients
    from consumers.alerts_kcl import processor
    from glucosestream.contract.codec import default_codec
    from glucosestream.domain.reading import sensor_status
    from tests.factories import FIVE_MINUTES_MS, patient, reading

    calls: set[tuple[str, str]] = set()
    lambda_env(kcl_container_settings())

    def client(service: str, settings: Any, **_: Any) -> _ProcessorClient:
        assert settings.mode == "aws"
        return _ProcessorClient(service, calls)

    monkeypatch.setattr(clients, "aws_client", client)
    monkeypatch.setattr(handler, "aws_client", client)
    # Timely readings (measured an hour ago, arrived 9 s after): they page.
    now_ms = int(time.time() * 1000) - 60 * FIVE_MINUTES_MS
    payloads = [
        default_codec().encode(
            reading(
                patient_id=patient(1),
                measured_at=now_ms + i * FIVE_MINUTES_MS,
                produced_at=now_ms + i * FIVE_MINUTES_MS + 4_000,
                glucose_mg_dl=value,
                status=sensor_status(value),
            ).to_record()
        )
        for i, value in enumerate([92, 84, 76, 69, 63, 58, 52, 49])
    ] + [b"not an avro record"]
    records = [
        {
            "action": "record",
            "sequenceNumber": f"4959{i:020d}",
            "subSequenceNumber": None,
            "approximateArrivalTimestamp": now_ms + i * FIVE_MINUTES_MS + 9_000,
            "partitionKey": patient(1),
            "data": base64.b64encode(payload).decode(),
        }
        for i, payload in enumerate(payloads)
    ]
    last = records[-1]["sequenceNumber"]
    daemon_says = [
        {"action": "initialize", "shardId": "shardId-000000000000",
         "sequenceNumber": "TRIM_HORIZON", "subSequenceNumber": 0},
        {"action": "processRecords", "records": records, "millisBehindLatest": 0},
        {"action": "checkpoint", "sequenceNumber": last, "subSequenceNumber": None, "error": None},
    ]  # fmt: skip
    written = io.StringIO()
    errors = io.StringIO()
    real = kcl.KCLProcess

    def kcl_process(record_processor: Any) -> Any:
        lines = "".join(json.dumps(message) + "\n" for message in daemon_says)
        return real(record_processor, io.StringIO(lines), written, errors)

    monkeypatch.setattr(kcl, "KCLProcess", kcl_process)
    processor.main()
    answered = [json.loads(line) for line in written.getvalue().splitlines() if line.strip()]
    assert not errors.getvalue(), errors.getvalue()
    assert {"action": "checkpoint", "sequenceNumber": last, "subSequenceNumber": None} in answered
    assert {"action": "status", "responseFor": "processRecords"} in answered
    return calls


def test_the_record_processor_calls_the_lambdas_resources(
    monkeypatch: pytest.MonkeyPatch, lambda_env: Any
) -> None:
    """If processor.py (or the AlertConsumer it shares with the Lambda) starts calling more, or
    other resources, the task role's grant below must follow."""
    assert record_processor_calls(monkeypatch, lambda_env) == {
        ("dynamodb:BatchGetItem", NAMES.patient_state_table),
        ("dynamodb:PutItem", NAMES.patient_state_table),
        ("sns:Publish", NAMES.alerts_topic),
        ("sqs:GetQueueUrl", NAMES.alerts_dlq),
        ("sqs:SendMessage", NAMES.alerts_dlq),
    }


def policy_grants(document: str) -> tuple[set[tuple[str, str]], list[dict[str, Any]]]:
    """(action, resource) pairs of a policy document, and its statements."""
    statements = json.loads(document)["Statement"]
    granted = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions, resources = statement["Action"], statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            for resource in [resources] if isinstance(resources, str) else resources:
                granted.add((action, resource))
    return granted, statements


def kcl_resource(plan: dict[str, Any], address: str) -> dict[str, Any]:
    """A resource of the alerts_kcl module by its address inside the module."""
    type_ = address.split(".", 1)[0]
    (found,) = [
        r
        for r in planned_resources(plan, type_)
        if r["address"] == f"module.alerts_kcl[0].{address}"
    ]
    return found


def test_kcl_task_role_grants_exactly_what_the_daemon_and_the_processor_call(
    plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch, lambda_env: Any
) -> None:
    consume = kcl_resource(plan, "aws_iam_role_policy.consume")
    assert not consume["unknown"].get("policy"), "the consume policy is unknown at plan time"
    granted, statements = policy_grants(consume["after"]["policy"])
    processor_calls = {
        (action, arn_of(action, name))
        for action, name in record_processor_calls(monkeypatch, lambda_env)
    }
    metrics = ("cloudwatch:PutMetricData", "*")
    assert granted == KCL_DAEMON_CALLS | processor_calls | {metrics}
    # PutMetricData has no resource-level permission: the namespace condition is its scope.
    (put_metrics,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert put_metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": KCL}}
    # One statement per resource.
    resources = [s["Resource"] for s in statements]
    assert all(isinstance(r, str) for r in resources)
    assert len(resources) == len(set(resources))
    # The key (stream, topic and queue are encrypted): its own policy, as the Lambda role's.
    key = kcl_resource(plan, "aws_iam_role_policy.key")
    assert key["after"]["name"] == "key"  # the key's ARN is unknown at plan time: the
    # rehearsal reads the deployed policy back (test_rehearsal.py: kms:Decrypt, GenerateDataKey)
    roles = {r["after"]["name"] for r in planned_resources(plan, "aws_iam_role")}
    assert {f"{KCL}-task", f"{KCL}-execution"} <= roles


def test_kcl_patient_state_grant_is_the_lambda_consumers(parsed: dict[Path, Any]) -> None:
    """The same actions on the patient-state table as the alerts Lambda's role (both apply the
    same AlertConsumer to the same table)."""

    def patient_state_actions(path: Path, document: str) -> set[str]:
        for block in parsed[path].get("data", []):
            for name, body in block.get('"aws_iam_policy_document"', {}).items():
                if unquote(name) != document:
                    continue
                for statement in body["statement"]:
                    if unquote(statement.get("sid")) == "PatientState":
                        return {unquote(a) for a in statement["actions"]}
        raise AssertionError(f"{path}: no PatientState statement in {document}")

    lambda_actions = patient_state_actions(MODULES_DIR / "alerting" / "main.tf", "consumer")
    kcl_actions = patient_state_actions(MODULES_DIR / "alerts_kcl" / "main.tf", "consume")
    assert kcl_actions == lambda_actions == {"dynamodb:BatchGetItem", "dynamodb:PutItem"}


def test_alerts_kcl_is_named_for_the_kcl_application(plan: dict[str, Any]) -> None:
    """Service, cluster, task family, image repository, log group and the lag alarm's namespace
    all carry ResourceNames.alerts_kcl_application (the KCL's CloudWatch namespace too)."""
    service = kcl_resource(plan, "aws_ecs_service.this")["after"]
    assert service["name"] == KCL
    assert service["desired_count"] == 1
    assert service["launch_type"] == "FARGATE"
    (network,) = service["network_configuration"]
    assert network["assign_public_ip"] is False
    assert service["deployment_circuit_breaker"] == [{"enable": True, "rollback": True}]
    assert kcl_resource(plan, "aws_ecs_cluster.this")["after"]["name"] == KCL
    task = kcl_resource(plan, "aws_ecs_task_definition.this")["after"]
    assert task["family"] == KCL
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["volume"][0]["name"] == "tmp"  # the only writable path (read-only root)
    assert kcl_resource(plan, "aws_ecr_repository.this")["after"]["name"] == KCL
    assert kcl_resource(plan, "aws_cloudwatch_log_group.this")["after"]["name"] == f"/ecs/{KCL}"
    lag = kcl_resource(plan, "aws_cloudwatch_metric_alarm.lag")["after"]
    assert (lag["namespace"], lag["metric_name"]) == (KCL, "MillisBehindLatest")
    assert lag["dimensions"] == {"Operation": "ApplicationTracker"}
    running = kcl_resource(plan, "aws_cloudwatch_metric_alarm.running_tasks")["after"]
    assert running["dimensions"] == {"ClusterName": KCL, "ServiceName": KCL}


def test_kcl_tables_have_the_schemas_the_kcl_creates(plan: dict[str, Any]) -> None:
    """KCL 3.x keys (lease table leaseKey with the LeaseOwnerToLeaseKeyIndex, CoordinatorState
    key, WorkerMetricStats wid), on demand, PITR and KMS as every table of the project."""
    tables = {
        r["after"]["name"]: r
        for r in planned_resources(plan, "aws_dynamodb_table")
        if r["address"].startswith("module.alerts_kcl[0].")
    }
    expected = {
        KCL: ("leaseKey", {"leaseKey", "leaseOwner"}),
        NAMES.alerts_kcl_coordinator_table: ("key", {"key"}),
        NAMES.alerts_kcl_worker_metrics_table: ("wid", {"wid"}),
    }
    assert set(tables) == set(expected)
    # The KCL derives the two names from the application name.
    assert NAMES.alerts_kcl_coordinator_table == f"{KCL}-CoordinatorState"
    assert NAMES.alerts_kcl_worker_metrics_table == f"{KCL}-WorkerMetricStats"
    for name, (hash_key, attributes) in expected.items():
        table = tables[name]["after"]
        assert table["hash_key"] == hash_key, name
        assert table.get("range_key") is None, name
        assert {(a["name"], a["type"]) for a in table["attribute"]} == {
            (a, "S") for a in attributes
        }, name
        assert table["billing_mode"] == "PAY_PER_REQUEST", name
        assert table["point_in_time_recovery"][0]["enabled"] is True, name
        assert table["server_side_encryption"][0]["enabled"] is True, name
    (index,) = tables[KCL]["after"]["global_secondary_index"]
    assert (index["name"], index["hash_key"], index["range_key"], index["projection_type"]) == (
        LEASE_OWNER_INDEX,
        "leaseOwner",
        "leaseKey",
        "KEYS_ONLY",
    )


def mapping_enabled(plan: dict[str, Any]) -> bool:
    return bool(one(plan, "aws_lambda_event_source_mapping")["enabled"])


def kcl_addresses(plan: dict[str, Any]) -> set[str]:
    return {
        change["address"]
        for change in plan["resource_changes"]
        if change["address"].startswith("module.alerts_kcl")
    }


def test_both_consumers_read_the_stream_in_the_main_plan(plan: dict[str, Any]) -> None:
    """alerts_consumer = "both" (the plan the tests above read): the Lambda's mapping enabled,
    the KCL service deployed."""
    assert mapping_enabled(plan) is True
    assert "module.alerts_kcl[0].aws_ecs_service.this" in kcl_addresses(plan)
    assert plan["variables"]["alerts_consumer"]["value"] == "both"


def test_lambda_alone_deploys_no_kcl(consumer_plans: dict[str, Any]) -> None:
    plan = consumer_plans["lambda"]
    assert not isinstance(plan, Exception), plan
    assert mapping_enabled(plan) is True
    assert kcl_addresses(plan) == set()
    assert {d["name"] for d in values_of(plan, "aws_dynamodb_table")} >= {NAMES.patient_state_table}
    assert not [n for n in names_of(plan, "aws_dynamodb_table") if n.startswith(KCL)]


def test_kcl_alone_disables_the_lambdas_mapping(consumer_plans: dict[str, Any]) -> None:
    """The mapping stays (disabled: it keeps its position), and so does the function."""
    plan = consumer_plans["kcl"]
    assert not isinstance(plan, Exception), plan
    assert mapping_enabled(plan) is False
    assert "module.alerts_kcl[0].aws_ecs_service.this" in kcl_addresses(plan)
    assert NAMES.alerts_function in names_of(plan, "aws_lambda_function", "function_name")


def test_kcl_without_a_network_is_refused_with_the_reason(consumer_plans: dict[str, Any]) -> None:
    failed = consumer_plans["kcl-without-network"]
    assert isinstance(failed, RuntimeError), "the plan should have failed"
    message = " ".join(str(failed).split())
    assert "The KCL alerts consumer needs a network: set alerts_kcl" in message


def values_of(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r["after"] for r in planned_resources(plan, type_)]


def names_of(plan: dict[str, Any], type_: str, attribute: str = "name") -> set[str]:
    return {r[attribute] for r in values_of(plan, type_)}
