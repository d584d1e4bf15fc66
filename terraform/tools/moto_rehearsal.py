"""Plan, and rehearse a deploy of, ``terraform/envs/dev`` against a local moto server.

``python terraform/tools/moto_rehearsal.py [plan|apply]`` (``make tf-rehearsal`` runs ``apply``).

The environment is copied to a temporary directory with two override files: a local backend and
a provider whose every endpoint is the moto server on 127.0.0.1 (fake credentials,
``max_retries = 1``). Nothing reaches AWS. ``plan`` writes the plan as JSON (the contract tests
in ``tests/terraform/`` read it); ``apply`` applies every resource moto supports, then destroys
them all, and reports which resources were targeted out and why (:data:`UNSUPPORTED`).

Needs terraform, the hashicorp/aws provider (registry or local mirror, see tf_check.py) and
moto[server] (the project's ``local`` extra).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tf_check import REPO_ROOT, TERRAFORM_DIR, terraform_binary, terraform_env

ENDPOINT_SERVICES = (
    "apigateway", "athena", "cloudwatch", "cloudwatchlogs", "cognitoidp", "dynamodb", "ec2",
    "ecr", "ecs", "elbv2", "events", "firehose", "glue", "iam", "kinesis", "kms", "lambda",
    "s3", "scheduler", "secretsmanager", "sfn", "sns", "sqs", "sts",
)  # fmt: skip
PSEUDONYM_KEY = "rehearsal-key-not-secret-0123456789abcdef"
REGION = "eu-west-1"
"""Not Settings' default region, so that a function missing GS_REGION shows in the tests."""
INGEST_KEY = {
    "id": "rehearsal",
    "tenant": "rehearsal",
    "value": "rehearsal-api-key-0123456789",
    "patient_prefix": "rehearsal-",
}
DASHBOARD = {
    "vpc_id": "vpc-00000000000000000",
    "public_subnet_ids": ["subnet-00000000000000001", "subnet-00000000000000002"],
    "private_subnet_ids": ["subnet-00000000000000003", "subnet-00000000000000004"],
    "allowed_cidrs": ["203.0.113.0/24"],
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/rehearsal",
    "domain_name": "dashboard.dev.example.org",
    "cognito_domain_prefix": "glucosestream-dev-rehearsal",
}
"""Placeholder network and certificate: the plan needs values, not real resources."""
ALERTS_CONSUMER = "both"
"""The plan and the rehearsal run both alerts consumers (the Lambda and the KCL application on
ECS), so that every resource of either is planned, applied and read back."""
DASHBOARD_FAMILY = "gs-dev-dashboard"
ALERTS_KCL_FAMILY = "gs-dev-alerts-kcl"
"""The ECS task families (ResourceNames("dev"): the dashboard, alerts_kcl_application)."""


def alerts_kcl_network(dashboard: dict[str, Any]) -> dict[str, Any]:
    """The KCL consumer's network: the dashboard's VPC and private subnets."""
    return {"vpc_id": dashboard["vpc_id"], "subnet_ids": dashboard["private_subnet_ids"]}


UNSUPPORTED: dict[str, str] = {}
"""Resource addresses targeted out of the rehearsal → why (filled from what moto lacks)."""

MOTO_LAUNCHER = """
import json, sys
from moto.stepfunctions.responses import StepFunctionResponse

# moto has no ValidateStateMachineDefinition, which the provider calls at plan time for a known
# definition. Answer OK: the rehearsal checks deployability, not the ASL (the sfn tests do).
def validate_state_machine_definition(self):
    return json.dumps({"result": "OK", "diagnostics": [], "truncated": False})

# Nor ListStateMachineVersions, which the provider reads after creating a state machine; it
# publishes no versions (publish = false), so the true answer is the empty list.
def list_state_machine_versions(self):
    return json.dumps({"stateMachineVersions": []})

StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
from moto.server import main
main(sys.argv[1:])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port, stopped on exit; yields its URL."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - moto's server (patched above), loopback only
        [sys.executable, "-c", MOTO_LAUNCHER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start on port {port}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def provider_override(endpoint: str) -> str:
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in ENDPOINT_SERVICES)
    return (
        "# Written by terraform/tools/moto_rehearsal.py: every call goes to the moto server.\n"
        'terraform {\n  backend "local" {}\n}\n\n'
        'provider "aws" {\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n"
        "  max_retries                 = 1\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )


def write_zip(path: Path, members: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)


def moto_session() -> Any:
    """A boto3 session with moto's fake credentials (nothing here can reach AWS)."""
    import boto3  # the project's dependency; imported here so that tf_check stays stdlib-only

    fake = "testing"
    return boto3.Session(aws_access_key_id=fake, aws_secret_access_key=fake, region_name=REGION)


def moto_network(endpoint: str) -> dict[str, Any]:
    """A VPC, four subnets and a certificate in moto, for the dashboard's ALB and tasks."""
    session = moto_session()
    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{REGION}{'ab'[i % 2]}"
        )["Subnet"]["SubnetId"]
        for i in range(4)
    ]
    acm = session.client("acm", endpoint_url=endpoint)
    certificate = acm.request_certificate(DomainName=DASHBOARD["domain_name"])["CertificateArn"]
    return {
        **DASHBOARD,
        "vpc_id": vpc,
        "public_subnet_ids": subnets[:2],
        "private_subnet_ids": subnets[2:],
        "certificate_arn": certificate,
    }


def prepare(
    workdir: Path,
    endpoint: str,
    dist_dir: Path | None,
    dashboard: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Copy terraform/ into ``workdir`` and point envs/dev at moto; returns the env directory.
    ``overrides``: variables that replace the rehearsal's (e.g. another ``alerts_consumer``)."""
    shutil.copytree(
        TERRAFORM_DIR, workdir / "terraform", ignore=shutil.ignore_patterns(".terraform*", "tools")
    )
    env_dir = workdir / "terraform" / "envs" / "dev"
    (env_dir / "moto_override.tf").write_text(provider_override(endpoint))
    if dist_dir is None:  # placeholders: plan only hashes them, moto never runs them
        dist_dir = workdir / "dist"
        dist_dir.mkdir()
        write_zip(dist_dir / "code.zip", {"consumers/__init__.py": ""})
        write_zip(dist_dir / "runtime-layer.zip", {"python/placeholder.py": ""})
        write_zip(dist_dir / "analytics-layer.zip", {"python/placeholder.py": ""})
    variables = {
        "region": REGION,
        "pseudonym_key": PSEUDONYM_KEY,
        "repo_root": str(REPO_ROOT),
        "dist_dir": str(dist_dir),
        "dashboard": dashboard or DASHBOARD,
        "alerts_consumer": ALERTS_CONSUMER,
        "alerts_kcl": alerts_kcl_network(dashboard or DASHBOARD),
        "ingest_api_keys": [INGEST_KEY],
        "ingest_nightscout": {
            "secret": "rehearsal-nightscout-secret",
            "patient": "nightscout-1",
            "tenant": "rehearsal",
        },
        "force_destroy": True,
        "deletion_protection": False,
        **(overrides or {}),
    }
    (env_dir / "rehearsal.auto.tfvars.json").write_text(json.dumps(variables, indent=2))
    return env_dir


def terraform(args: list[str], cwd: Path, data_dir: Path, timeout: float = 600) -> str:
    binary = terraform_binary()
    if binary is None:
        raise RuntimeError("terraform is not on PATH")
    env = terraform_env(data_dir)
    done = subprocess.run(  # noqa: S603 - fixed terraform arguments
        [binary, *args, "-no-color"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(
            f"terraform {args[0]} failed:\n{done.stdout[-3000:]}{done.stderr[-5000:]}"
        )
    return done.stdout


def plan_json(
    workdir: Path, endpoint: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``terraform show -json`` of a plan of envs/dev (dashboard and both alerts consumers
    included, unless ``overrides`` say otherwise) against ``endpoint``."""
    env_dir = prepare(workdir, endpoint, None, overrides=overrides)
    data_dir = workdir / "tfdata"
    terraform(["init", "-input=false"], env_dir, data_dir)
    terraform(["plan", "-input=false", "-out=plan.tfplan"], env_dir, data_dir)
    plan: dict[str, Any] = json.loads(
        terraform(["show", "-json", "plan.tfplan"], env_dir, data_dir)
    )
    return plan


def deployed_checks(endpoint: str) -> dict[str, Any]:
    """What moto holds after the apply: the facts the rehearsal asserts on."""
    session = moto_session()
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    lambdas = session.client("lambda", endpoint_url=endpoint)
    (machine,) = sfn.list_state_machines()["stateMachines"]
    definition = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])[
        "definition"
    ]
    functions = {
        f["FunctionName"]: f.get("Environment", {}).get("Variables", {})
        for f in lambdas.list_functions()["Functions"]
    }
    mappings = lambdas.list_event_source_mappings()["EventSourceMappings"]
    iam = session.client("iam", endpoint_url=endpoint)
    roles = {f.get("Handler"): f["Role"] for f in lambdas.list_functions()["Functions"]}
    ingest_role = roles["consumers.ingest_api.handler.handler"]
    pipeline_role = roles["consumers.pipeline.handler.lambda_handler"]
    alerts_role = roles["consumers.alerts.handler.lambda_handler"]
    return {
        "state_machine": machine["name"],
        "definition_has_placeholders": "${" in definition,
        "functions": sorted(functions),
        "event_source_mappings": len(mappings),
        "event_source_mapping_states": sorted(str(m.get("State")) for m in mappings),
        "subscriptions": _queue_subscriptions(session, endpoint),
        "dashboard": _dashboard_task(session, endpoint),
        "alerts_kcl": _alerts_kcl_service(session, endpoint),
        "ingest_role_policies": _role_policies(iam, ingest_role.rsplit("/", 1)[-1]),
        "pipeline_role_policies": _role_policies(iam, pipeline_role.rsplit("/", 1)[-1]),
        "alerts_role_policies": _role_policies(iam, alerts_role.rsplit("/", 1)[-1]),
        "delivery_streams": _delivery_streams(session, endpoint),
    }


def _delivery_streams(session: Any, endpoint: str) -> dict[str, dict[str, Any]]:
    """Every Firehose delivery stream by name: its source stream, prefixes, Glue table,
    processor Lambda and its role's inline policies."""
    firehose = session.client("firehose", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    found = {}
    for name in firehose.list_delivery_streams(Limit=100)["DeliveryStreamNames"]:
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)
        stream = description["DeliveryStreamDescription"]
        source = stream["Source"]["KinesisStreamSourceDescription"]
        (destination,) = stream["Destinations"]
        s3 = destination["ExtendedS3DestinationDescription"]
        schema = s3["DataFormatConversionConfiguration"]["SchemaConfiguration"]
        (processor,) = s3["ProcessingConfiguration"]["Processors"]
        parameters = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
        found[name] = {
            "source_stream": source["KinesisStreamARN"].rsplit("/", 1)[-1],
            "prefix": s3["Prefix"],
            "error_output_prefix": s3["ErrorOutputPrefix"],
            "table": [schema["DatabaseName"], schema["TableName"]],
            "lambda_arn": parameters["LambdaArn"],
            "role_policies": _role_policies(iam, s3["RoleARN"].rsplit("/", 1)[-1]),
        }
    return found


def _role_policies(iam: Any, role: str) -> dict[str, Any]:
    """The inline policies of an IAM role, by name."""
    policies = {}
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        policies[name] = json.loads(document) if isinstance(document, str) else document
    return policies


def _queue_subscriptions(session: Any, endpoint: str) -> list[list[Any]]:
    """[topic name, queue name, raw message delivery] of every SQS subscription, sorted."""
    sns = session.client("sns", endpoint_url=endpoint)
    found = []
    for page in sns.get_paginator("list_subscriptions").paginate():
        for subscription in page["Subscriptions"]:
            if subscription["Protocol"] != "sqs":
                continue
            attributes = sns.get_subscription_attributes(
                SubscriptionArn=subscription["SubscriptionArn"]
            )["Attributes"]
            found.append(
                [
                    subscription["TopicArn"].rsplit(":", 1)[-1],
                    subscription["Endpoint"].rsplit(":", 1)[-1],
                    attributes.get("RawMessageDelivery") == "true",
                ]
            )
    return sorted(found)


def _task(session: Any, endpoint: str, family: str) -> dict[str, Any]:
    """The one container of a task family: environment, secret names, user, stop timeout,
    mounts, and its task role's policies."""
    ecs = session.client("ecs", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    (arn,) = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
    definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    (container,) = definition["containerDefinitions"]
    policies = _role_policies(iam, definition["taskRoleArn"].rsplit("/", 1)[-1])
    return {
        "environment": {e["name"]: e["value"] for e in container.get("environment", [])},
        "secrets": sorted(s["name"] for s in container.get("secrets", [])),
        "user": container.get("user"),
        "stop_timeout": container.get("stopTimeout"),
        "read_only_root": container.get("readonlyRootFilesystem"),
        "mounts": sorted(m["containerPath"] for m in container.get("mountPoints", [])),
        "task_role_policies": policies,
    }


def _dashboard_task(session: Any, endpoint: str) -> dict[str, Any]:
    """The dashboard container's environment and secret names, and its task role's policies."""
    return _task(session, endpoint, DASHBOARD_FAMILY)


def _alerts_kcl_service(session: Any, endpoint: str) -> dict[str, Any]:
    """The KCL alerts consumer: its container and task role (as the dashboard's), its service's
    desired count and task definition family, and its three tables' key schemas."""
    ecs = session.client("ecs", endpoint_url=endpoint)
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    (service,) = ecs.describe_services(cluster=ALERTS_KCL_FAMILY, services=[ALERTS_KCL_FAMILY])[
        "services"
    ]
    tables = {}
    for name in dynamodb.list_tables()["TableNames"]:
        if not name.startswith(ALERTS_KCL_FAMILY):
            continue
        table = dynamodb.describe_table(TableName=name)["Table"]
        tables[name] = {
            "keys": sorted([k["AttributeName"], k["KeyType"]] for k in table["KeySchema"]),
            "indexes": {
                index["IndexName"]: {
                    "keys": sorted([k["AttributeName"], k["KeyType"]] for k in index["KeySchema"]),
                    "projection": index["Projection"]["ProjectionType"],
                }
                for index in table.get("GlobalSecondaryIndexes", [])
            },
            "billing_mode": table.get("BillingModeSummary", {}).get("BillingMode"),
        }
    return {
        **_task(session, endpoint, ALERTS_KCL_FAMILY),
        "service": service["serviceName"],
        "desired_count": service["desiredCount"],
        "task_family": service["taskDefinition"].rsplit("/", 1)[-1].split(":", 1)[0],
        "tables": tables,
    }


def rehearse(workdir: Path, endpoint: str, dist_dir: Path | None) -> dict[str, Any]:
    """init, apply everything against moto, read back what was deployed, destroy."""
    env_dir = prepare(workdir, endpoint, dist_dir, moto_network(endpoint))
    data_dir = workdir / "tfdata"
    terraform(["init", "-input=false"], env_dir, data_dir)
    started = time.monotonic()
    targets = [f"-target={address}" for address in sorted(UNSUPPORTED)]  # none at present
    apply = terraform(
        ["apply", "-input=false", "-auto-approve", "-parallelism=10", *targets],
        env_dir,
        data_dir,
        timeout=900,
    )
    applied_s = time.monotonic() - started
    state = json.loads(terraform(["show", "-json"], env_dir, data_dir))
    resources = [
        r
        for module in _modules(state["values"]["root_module"])
        for r in module.get("resources", [])
        if r["mode"] == "managed"
    ]
    facts = deployed_checks(endpoint)
    started = time.monotonic()
    terraform(
        ["destroy", "-input=false", "-auto-approve", "-parallelism=10"],
        env_dir,
        data_dir,
        timeout=900,
    )
    destroyed_s = time.monotonic() - started
    remaining = json.loads(terraform(["show", "-json"], env_dir, data_dir)).get("values")
    return {
        "applied": len(resources),
        "apply_summary": [line for line in apply.splitlines() if "Apply complete" in line],
        "apply_s": round(applied_s, 1),
        "destroy_s": round(destroyed_s, 1),
        "left_after_destroy": remaining is not None and bool(remaining.get("root_module")),
        **facts,
    }


def _modules(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield module
    for child in module.get("child_modules", []):
        yield from _modules(child)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=["plan", "apply"], nargs="?", default="apply")
    parser.add_argument(
        "--dist", type=Path, help="deploy these artefacts (make build) instead of placeholders"
    )
    args = parser.parse_args(argv)
    if terraform_binary() is None:
        print("SKIPPED tf-rehearsal: terraform is not on PATH")
        return 0
    started = time.monotonic()
    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="gs-tf-") as tmp:
        if args.action == "plan":
            plan = plan_json(Path(tmp), endpoint)
            print(f"plan: {len(plan.get('resource_changes', []))} resources against {endpoint}")
        else:
            report = rehearse(Path(tmp), endpoint, args.dist)
            print(json.dumps(report, indent=2))
            print("targeted out (moto lacks them):", UNSUPPORTED or "none")
            print(
                "stubbed in moto: ValidateStateMachineDefinition (answers OK), "
                "ListStateMachineVersions (answers [], true: no versions are published)"
            )
    print(f"tf-rehearsal: {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
