"""``make aws-rehearsal``: GlucoseStream in AWS mode, end to end, on one machine.

1. ``terraform apply`` of ``envs/dev`` against a local moto server (as ``moto_rehearsal.py``:
   every provider endpoint is moto; nothing reaches AWS).
2. What Terraform deployed is read back from moto: each Lambda's environment variables, the
   alerts event-source mapping, the state machine's definition, the dashboard task's environment.
3. A simulated cohort goes through the deployed resources with ``GS_MODE=aws`` and endpoint
   overrides only (the standard ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_ATHENA`` variables):
   the producer (``glucosestream simulate --publish``) puts to the stream Terraform created; the
   alerts consumer (the local event-source mapping with the mapping's settings read back) and the
   Firehose stand-in run as processes with exactly their function's variables, the stand-in
   writing into the lake bucket Terraform created; the state machine definition read back from
   moto runs in the local ASL interpreter, its Lambda tasks invoking each function's real entry
   point in a process of its own with that function's variables, its Athena tasks going to the
   local Athena API (DuckDB over the S3 lake, accepting only what Athena accepts); the dashboard
   serves a patient's report in aws mode from the rehearsal's marts.
4. The reference: the same raw zone (the objects Firehose landed) run through the pipeline in
   local mode (a directory lake, DuckDB in-process). Every mart must equal, row for row.

It ends with ``aws rehearsal: <n> readings, <a> alerts, marts equal to local mode: yes|no (<rows>
rows compared)`` and exits 1 unless they are equal.

moto gaps worked around (each said where it is handled): Lambda and Step Functions execution
need Docker in moto, so the functions run as local processes and the definition in the local
ASL interpreter; moto's Athena runs no SQL, so Athena is the local Athena API; kinesalite cannot
take the provider's CreateStream (stream mode, KMS, enhanced monitoring), so the stream is
moto's; ValidateStateMachineDefinition and ListStateMachineVersions are answered by
``moto_rehearsal.MOTO_LAUNCHER``; moto applies bucket policies without their conditions, so
the TLS-only Deny statements are removed after the apply (:func:`drop_conditional_denies`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import moto_rehearsal as tf
from tf_check import REPO_ROOT, terraform_binary

sys.path.insert(0, str(REPO_ROOT))

from glucosestream.adapters.athena import AthenaQueryEngine
from glucosestream.local.athena_api import LocalAthenaApi
from glucosestream.local.esm import CheckpointStore
from glucosestream.local.pipeline_runner import ATHENA_QUERY_SYNC, SNS_PUBLISH
from glucosestream.local.stepfunctions import S3_LIST_OBJECTS, StateMachine, StatesError
from glucosestream.settings import ResourceNames

PATIENTS, DAYS, SEED = 20, 3, 11
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS - 1)
"""The cohort's last day lies ahead of the wall clock: those readings arrive before they are
measured, so the alerts consumer pages for them (the first days, a backfill of old readings,
page nobody, by design), and they stay within the raw table's projection (up to NOW+1DAYS)."""
AS_OF = START + timedelta(days=DAYS, hours=1)
"""'Now' for the pipeline's future-timestamp check: after the last simulated reading."""
NAMES = ResourceNames(env="dev")
MARTS = ("curated_readings", "patient_daily_metrics", "patient_period_metrics", "agp_profile",
         "glycemic_episodes", "patient_period_metrics_iglu")  # fmt: skip
DRAIN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Deployed:
    """What Terraform created in moto, read back."""

    functions: dict[str, dict[str, Any]]
    """function name → {"env": variables, "handler", "arn"}."""
    definition: dict[str, Any]
    state_machine: str
    dashboard_env: dict[str, str]
    mapping: dict[str, Any]


def drop_conditional_denies(endpoint: str) -> list[str]:
    """moto gap: moto enforces bucket policies but ignores their Condition blocks (its own
    docstring of put_bucket_policy says so), so the lake's TLS-only statement — Deny s3:* when
    aws:SecureTransport is false — denies every request, over HTTPS too. Such statements are
    removed after the apply (the Terraform contract tests check the policy itself); returns the
    buckets changed."""
    s3 = tf.moto_session().client("s3", endpoint_url=endpoint)
    changed = []
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        except s3.exceptions.ClientError:
            continue
        kept = [
            statement
            for statement in policy.get("Statement", [])
            if not (statement.get("Effect") == "Deny" and "Condition" in statement)
        ]
        if len(kept) == len(policy.get("Statement", [])):
            continue
        if kept:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps({**policy, "Statement": kept}))
        else:
            s3.delete_bucket_policy(Bucket=name)
        changed.append(name)
    return changed


def read_back(endpoint: str) -> Deployed:
    session = tf.moto_session()
    lambdas = session.client("lambda", endpoint_url=endpoint)
    functions = {}
    for function in lambdas.list_functions()["Functions"]:
        functions[function["FunctionName"]] = {
            "env": function.get("Environment", {}).get("Variables", {}),
            "handler": function["Handler"],
            "arn": function["FunctionArn"],
        }
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    (machine,) = sfn.list_state_machines()["stateMachines"]
    definition = json.loads(
        sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"]
    )
    (mapping,) = [
        m
        for m in lambdas.list_event_source_mappings()["EventSourceMappings"]
        if m["FunctionArn"].endswith(f":function:{NAMES.alerts_function}")
    ]
    ecs = session.client("ecs", endpoint_url=endpoint)
    (task_arn,) = ecs.list_task_definitions(familyPrefix=tf.DASHBOARD_FAMILY)["taskDefinitionArns"]
    (container,) = ecs.describe_task_definition(taskDefinition=task_arn)["taskDefinition"][
        "containerDefinitions"
    ]
    dashboard_env = {e["name"]: e["value"] for e in container.get("environment", [])}
    return Deployed(functions, definition, machine["name"], dashboard_env, mapping)


class Rehearsal:
    """The deployed resources, driven as users and AWS would drive them."""

    def __init__(self, workdir: Path, moto: str, athena: str, deployed: Deployed) -> None:
        self.workdir = workdir
        self.moto = moto
        self.athena = athena
        self.deployed = deployed
        self.state_dir = workdir / "state"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        session = tf.moto_session()
        self.s3 = session.client("s3", endpoint_url=moto)
        self.kinesis = session.client("kinesis", endpoint_url=moto)
        self.sqs = session.client("sqs", endpoint_url=moto)
        self.sns = session.client("sns", endpoint_url=moto)
        self.athena_client = session.client("athena", endpoint_url=athena)

    # ------------------------------------------------------------------ environments

    def base_env(self) -> dict[str, str]:
        """Endpoint overrides and fake credentials: the only things not from Terraform."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": tf.REGION,
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_ENDPOINT_URL_ATHENA": self.athena,
            "GS_STATE_DIR": str(self.state_dir),
        }

    def function_env(self, name: str) -> dict[str, str]:
        return {**self.base_env(), **self.deployed.functions[name]["env"]}

    def client_env(self) -> dict[str, str]:
        """A user's CLI in aws mode (the settings the deployed functions have)."""
        pipeline = self.deployed.functions[NAMES.pipeline_function]["env"]
        keys = ("GS_MODE", "GS_ENV", "GS_REGION", "GS_PSEUDONYM_KEY")
        return {**self.base_env(), **{k: pipeline[k] for k in keys}}

    # ------------------------------------------------------------------------ steps

    def publish(self) -> int:
        done = subprocess.run(  # noqa: S603 - the project's own CLI
            [sys.executable, "-m", "glucosestream.cli", "simulate", "--patients", str(PATIENTS),
             "--days", str(DAYS), "--seed", str(SEED), "--start", START.isoformat(),
             "--publish"],
            env=self.client_env(), capture_output=True, text=True, check=False, cwd=REPO_ROOT,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"simulate --publish failed: {done.stderr[-2000:]}")
        words = done.stdout.split()
        return int(words[words.index("published") + 1])

    @contextlib.contextmanager
    def consumers(self) -> Iterator[None]:
        """The alerts consumer and the Firehose stand-in, each a process with its function's
        variables (as ``make run`` starts them, but in aws mode)."""
        started = []
        # The alerts worker is the event-source mapping and the alerts function: the function's
        # variables. The Firehose worker stands in for the delivery stream (an AWS service, set
        # by the region and names) and calls the transform function in-process.
        for worker, env in (
            ("alerts", self.function_env(NAMES.alerts_function)),
            ("firehose", self.client_env()),
        ):
            log = (self.logs / f"worker-{worker}.log").open("w")
            started.append(
                subprocess.Popen(  # noqa: S603 - the project's own worker
                    [sys.executable, "-m", "glucosestream.local.workers", worker],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT,
                )
            )
        try:
            yield
        finally:
            for process in started:
                process.send_signal(signal.SIGTERM)
            for process in started:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()

    def stream_tips(self) -> dict[str, str | None]:
        tips: dict[str, str | None] = {}
        stream = NAMES.readings_stream
        for shard in self.kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = self.kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            last = None
            while iterator:
                page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                if page["Records"]:
                    last = page["Records"][-1]["SequenceNumber"]
                if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                    break
                iterator = page.get("NextShardIterator")
            tips[shard["ShardId"]] = last
        return tips

    def raw_rows(self) -> int:
        import pyarrow.parquet as pq

        rows = 0
        for key in self.keys(NAMES.raw_readings_prefix):
            if key.endswith(".parquet"):
                body = self.s3.get_object(Bucket=NAMES.lake_bucket, Key=key)["Body"].read()
                rows += pq.ParquetFile(pa_buffer(body)).metadata.num_rows
        return rows

    def keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=NAMES.lake_bucket, Prefix=prefix
        ):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return found

    def drain(self, published: int) -> None:
        """Until the alerts consumer checkpointed every shard's tip and the raw zone holds every
        reading (the consumers keep running)."""
        tips = self.stream_tips()
        checkpoints = CheckpointStore(self.state_dir / "esm" / "alerts")
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while True:
            consumed = all(
                tip is None or int(checkpoints.load(shard) or 0) >= int(tip)
                for shard, tip in tips.items()
            )
            landed = self.raw_rows()
            if consumed and landed >= published:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not drained after {DRAIN_TIMEOUT_S} s: consumed={consumed}, "
                    f"raw rows {landed} of {published} (see {self.logs})"
                )
            time.sleep(1.0)

    def alerts(self) -> int:
        """Alert messages the alerts topic delivered to its feed queue (Terraform's)."""
        url = self.sqs.get_queue_url(QueueName=NAMES.alerts_feed_queue)["QueueUrl"]
        seen: set[str] = set()
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            if not messages:
                return len(seen)
            for message in messages:
                seen.add(message["MessageId"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    # --------------------------------------------------------------------- pipeline

    def invoke(self, function: str) -> Callable[[Any], Any]:
        """A Lambda task: the function's real entry point in a process of its own, with exactly
        the variables Terraform gave it."""
        spec = self.deployed.functions[function]

        def call(payload: Any) -> Any:
            done = subprocess.run(  # noqa: S603 - the project's own handler
                [sys.executable, "-m", "glucosestream.local.lambda_invoke", spec["handler"],
                 function],
                input=json.dumps(payload), env=self.function_env(function), capture_output=True,
                text=True, check=False, cwd=REPO_ROOT, timeout=900,
            )  # fmt: skip
            with (self.logs / f"lambda-{function}.log").open("a") as log:
                log.write(done.stderr)
            if done.returncode:
                try:
                    error = json.loads(done.stdout)
                except json.JSONDecodeError:
                    raise StatesError("Lambda.Unknown", done.stderr[-2000:]) from None
                raise StatesError(error["errorType"], error["errorMessage"])
            return json.loads(done.stdout)

        return call

    def athena_sync(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """``athena:startQueryExecution.sync``: start, then wait for the end, through Athena's
        API (the local Athena API); a failed query fails the task with the execution as cause."""
        started = self.athena_client.start_query_execution(**parameters)
        while True:
            execution = self.athena_client.get_query_execution(
                QueryExecutionId=started["QueryExecutionId"]
            )
            state = execution["QueryExecution"]["Status"]["State"]
            if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.2)
        if state != "SUCCEEDED":
            raise StatesError("States.TaskFailed", json.dumps(execution, default=str))
        result: dict[str, Any] = json.loads(json.dumps(execution, default=str))
        return result

    def list_objects(self, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=parameters["Bucket"], Prefix=parameters.get("Prefix", "")
        ):
            items.extend(
                {"Key": o["Key"], "Size": o["Size"], "StorageClass": "STANDARD"}
                for o in page.get("Contents", [])
            )
        return items

    def publish_sns(self, parameters: dict[str, Any]) -> dict[str, Any]:
        response = self.sns.publish(
            TopicArn=parameters["TopicArn"],
            Subject=parameters.get("Subject", "GlucoseStream pipeline"),
            Message=parameters["Message"],
        )
        return {"MessageId": response["MessageId"]}

    def run_pipeline(self) -> dict[str, Any]:
        """The definition read back from moto, in the local ASL interpreter."""
        resources: dict[str, Callable[[Any], Any]] = {
            SNS_PUBLISH: self.publish_sns,
            ATHENA_QUERY_SYNC: self.athena_sync,
            S3_LIST_OBJECTS: self.list_objects,
        }
        for name, spec in self.deployed.functions.items():
            resources[spec["arn"]] = self.invoke(name)
        machine = StateMachine(
            self.deployed.definition, resources, name=self.deployed.state_machine
        )
        run_id = uuid.uuid4().hex[:12]
        execution = machine.execute(
            {"run_id": run_id, "full_refresh": False, "as_of": AS_OF.isoformat()}, name=run_id
        )
        (self.logs / "pipeline-history.json").write_text(
            json.dumps(execution.history, indent=2, default=str)
        )
        if execution.status != "SUCCEEDED":
            raise RuntimeError(
                f"pipeline {execution.status}: {execution.error}: {execution.cause} "
                f"(history in {self.logs})"
            )
        output: dict[str, Any] = execution.output
        return output

    # --------------------------------------------------------------------- dashboard

    def dashboard_report(self, patient_id: str) -> dict[str, Any]:
        """The dashboard's AGP report of a patient, built in aws mode in a process with the ECS
        task's variables: the dashboard's own composition root chooses Athena (here the local
        Athena API), the report view loads and renders it, and its HTML is written out."""
        env = {**self.client_env(), **self.deployed.dashboard_env}
        page = self.logs / "dashboard-report.html"
        done = subprocess.run(  # noqa: S603 - the project's own code
            [sys.executable, "-c", REPORT_SCRIPT, patient_id, str(page)],
            env=env, capture_output=True, text=True, check=False, cwd=REPO_ROOT, timeout=300,
        )  # fmt: skip
        (self.logs / "dashboard.log").write_text(done.stdout + done.stderr)
        if done.returncode:
            return {"status": f"failed: {done.stderr[-500:]}", "header": "", "stats": {}}
        shown: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return shown

    # --------------------------------------------------------------------- reference

    def local_reference(self) -> Path:
        """The raw zone Firehose landed, copied into a local lake, and the pipeline run there in
        local mode (the same SQL and code on DuckDB and a directory)."""
        local_state = self.workdir / "local"
        for key in self.keys(NAMES.raw_readings_prefix):
            target = local_state / "lake" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            body = self.s3.get_object(Bucket=NAMES.lake_bucket, Key=key)["Body"].read()
            target.write_bytes(body)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir),
            "GS_STATE_DIR": str(local_state),
            "GS_PSEUDONYM_KEY": self.client_env()["GS_PSEUDONYM_KEY"],
        }
        done = subprocess.run(  # noqa: S603 - the project's own CLI
            [sys.executable, "-m", "glucosestream.cli", "elt", "run", "--as-of",
             AS_OF.isoformat()],
            env=env, capture_output=True, text=True, check=False, cwd=REPO_ROOT,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"local elt run failed: {done.stdout[-1500:]}{done.stderr[-1500:]}")
        return local_state


REPORT_SCRIPT = """
import json, sys
from bokeh.embed import file_html
from bokeh.resources import CDN
from glucosestream.dashboard.queries import LakeQueries
from glucosestream.dashboard.resources import engine_for
from glucosestream.dashboard.runner import InlineRunner
from glucosestream.dashboard.views.report import ReportView
from glucosestream.settings import load_settings

queries = LakeQueries(engine_for(load_settings()))
view = ReportView(queries, InlineRunner(), sys.argv[1], None)
with open(sys.argv[2], "w") as page:
    page.write(file_html(view.layout, CDN, "GlucoseStream report"))
print(json.dumps({"status": view.status.text, "header": view.header.text,
                  "stats": {k: list(v) for k, v in view.stats.data.items()}}, default=str))
"""
"""Builds the report as the dashboard does (its composition root, its report view)."""


def pa_buffer(data: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(data)


# ------------------------------------------------------------------------- comparison


FLOAT_REL_TOL = 1e-9
"""Doubles agree within this relative tolerance: each engine sums in its own order (DuckDB's
parallel aggregation differs run to run in the last digits), so exact text would be flaky."""
SORT_DIGITS = 9


def canonical(value: Any, digits: int = 12) -> str:
    """A value as text both engines agree on (dates and timestamps ISO, floats to ``digits``
    significant digits: Athena's CSV results and DuckDB's doubles are the same numbers printed
    differently)."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return "NaN" if value != value else f"{value:.{digits}g}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("T", " ")
    return str(value)


Row = tuple[tuple[str, Any], ...]


def sorted_rows(rows: list[Row]) -> list[Row]:
    """Rows in an order both engines' rows share (floats rounded for the sort key only)."""
    return sorted(rows, key=lambda row: [(n, canonical(v, SORT_DIGITS)) for n, v in row])


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if a != a or b != b:
            return a != a and b != b
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=1e-12)
    return canonical(a) == canonical(b)


def same_row(a: Row, b: Row) -> bool:
    return len(a) == len(b) and all(
        na == nb and same_value(va, vb) for (na, va), (nb, vb) in zip(a, b, strict=True)
    )


def shown(row: Row) -> tuple[str, ...]:
    return tuple(f"{n}={canonical(v)}" for n, v in row)


def aws_rows(engine: AthenaQueryEngine, table: str) -> list[Row]:
    result = engine.execute(f"SELECT * FROM {engine.database}.{table}")  # noqa: S608 - our names
    names = sorted(result.columns)
    count = len(result.columns[names[0]]) if names else 0
    return sorted_rows([tuple((n, result.columns[n][i]) for n in names) for i in range(count)])


def local_rows(local_state: Path, table: str) -> list[Row]:
    from glucosestream.local.lake import lake_engine
    from glucosestream.settings import load_settings

    settings = load_settings(state_dir=local_state)
    engine = lake_engine(settings)
    engine.bind_projected(table, None)
    relation = engine.connection.sql(f"SELECT * FROM {engine.database}.{table}")  # noqa: S608
    names = sorted(relation.columns)
    rows = relation.fetchall()
    index = {name: relation.columns.index(name) for name in names}
    return sorted_rows([tuple((n, row[index[n]]) for n in names) for row in rows])


def compare(engine: AthenaQueryEngine, local_state: Path) -> tuple[bool, int, list[str]]:
    equal, compared, notes = True, 0, []
    for table in MARTS:
        aws, local = aws_rows(engine, table), local_rows(local_state, table)
        compared += len(aws)
        differing = [(a, b) for a, b in zip(aws, local, strict=False) if not same_row(a, b)]
        if len(aws) != len(local) or differing:
            equal = False
            notes.append(
                f"{table}: aws {len(aws)} rows, local {len(local)}; e.g. only aws "
                f"{[shown(a) for a, _ in differing[:2]]}, only local "
                f"{[shown(b) for _, b in differing[:2]]}"
            )
        elif not aws:
            equal = False
            notes.append(f"{table}: no rows in either mode")
    return equal, compared, notes


# ------------------------------------------------------------------------------ main


def rehearse(workdir: Path) -> int:
    started = time.monotonic()
    with tf.moto_server() as moto:
        env_dir = tf.prepare(workdir, moto, None, tf.moto_network(moto))
        data_dir = workdir / "tfdata"
        tf.terraform(["init", "-input=false"], env_dir, data_dir)
        tf.terraform(
            ["apply", "-input=false", "-auto-approve", "-parallelism=10"],
            env_dir,
            data_dir,
            timeout=900,
        )
        applied = time.monotonic()
        print(f"terraform apply against moto: {applied - started:.0f} s", flush=True)
        relaxed = drop_conditional_denies(moto)
        print(f"moto gap: conditional Deny statements removed from {', '.join(relaxed)}")
        deployed = read_back(moto)
        with LocalAthenaApi(moto, region=tf.REGION) as athena:
            rehearsal = Rehearsal(workdir, moto, athena.endpoint, deployed)
            with rehearsal.consumers():
                published = rehearsal.publish()
                print(f"published {published} readings to {NAMES.readings_stream}", flush=True)
                rehearsal.drain(published)
            alerts = rehearsal.alerts()
            print(f"consumed and landed; {alerts} alerts on the alerts topic", flush=True)
            output = rehearsal.run_pipeline()
            print(f"pipeline: {json.dumps(output.get('marts', {}), default=str)}", flush=True)
            engine = AthenaQueryEngine(
                tf.moto_session().client("athena", endpoint_url=athena.endpoint),
                database=NAMES.glue_database,
                workgroup=NAMES.athena_workgroup,
            )
            patient = str(engine.execute(
                f"SELECT min(patient_id) AS p FROM {NAMES.glue_database}.patient_period_metrics"  # noqa: S608
            ).columns["p"][0])  # fmt: skip
            report = rehearsal.dashboard_report(patient)
            report_ok = report["status"].startswith("Showing") and patient in report["header"]
            rows = len(report["stats"].get("metric", []))
            print(f"dashboard (aws mode): {report['status']!r}, {rows} statistics rows", flush=True)
            local_state = rehearsal.local_reference()
            equal, compared, notes = compare(engine, local_state)
    for note in notes:
        print(f"  {note}")
    print(f"rehearsal took {time.monotonic() - started:.0f} s; logs were in {rehearsal.logs}")
    verdict = "yes" if equal and report_ok else "no"
    print(
        f"aws rehearsal: {published} readings, {alerts} alerts, marts equal to local mode: "
        f"{verdict} ({compared} rows compared)"
    )
    return 0 if verdict == "yes" else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args(argv)
    if terraform_binary() is None:
        print("aws rehearsal: FAILED — terraform is not on PATH", file=sys.stderr)
        return 1
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return rehearse(args.keep)
    workdir = Path(tempfile.mkdtemp(prefix="gs-aws-rehearsal-"))
    try:
        return rehearse(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
