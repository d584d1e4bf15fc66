"""Static rules over terraform/ (python-hcl2; no terraform binary needed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.conftest import ENV_DIR, MODULES_DIR, TERRAFORM_DIR, tf_files, unquote

MODULES = sorted(p for p in MODULES_DIR.iterdir() if p.is_dir())
ROOTS = [*MODULES, ENV_DIR]


def test_every_stage_has_a_module() -> None:
    names = {p.name for p in MODULES}
    assert {"stream", "lake", "alerting", "elt", "ingest", "dashboard"} <= names


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_has_the_standard_files(module: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).is_file(), f"{module.name}/{name} is missing"


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_versions_pin_terraform_and_the_aws_provider(
    root: Path, parsed: dict[Path, dict[str, Any]]
) -> None:
    (terraform,) = parsed[root / "versions.tf"]["terraform"]
    assert unquote(terraform["required_version"]) == ">= 1.5"
    (providers,) = terraform["required_providers"]
    assert unquote(providers["aws"]["source"]) == "hashicorp/aws"
    assert unquote(providers["aws"]["version"]) == "~> 5.0"


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_variables_are_typed_and_described(root: Path, parsed: dict[Path, dict[str, Any]]) -> None:
    variables = [
        (name, body)
        for block in parsed[root / "variables.tf"].get("variable", [])
        for name, body in block.items()
    ]
    assert variables
    for name, body in variables:
        assert "type" in body, f"{root.name}: variable {name} has no type"
        assert unquote(body.get("description", "")).strip(), f"{root.name}: {name} undescribed"


@pytest.mark.parametrize("root", ROOTS, ids=lambda p: p.name)
def test_outputs_are_described(root: Path, parsed: dict[Path, dict[str, Any]]) -> None:
    outputs = [
        (name, body)
        for block in parsed[root / "outputs.tf"].get("output", [])
        for name, body in block.items()
    ]
    assert outputs
    for name, body in outputs:
        assert unquote(body.get("description", "")).strip(), f"{root.name}: output {name}"


def policy_statements(parsed: dict[Path, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of every aws_iam_policy_document: (where, statement)."""
    found = []
    for path, doc in parsed.items():
        for block in doc.get("data", []):
            for name, bodies in block.get('"aws_iam_policy_document"', {}).items():
                for statement in bodies.get("statement", []):
                    where = f"{path.relative_to(TERRAFORM_DIR)} {unquote(name)}"
                    found.append((where, statement))
    return found


def test_there_are_policy_documents(parsed: dict[Path, dict[str, Any]]) -> None:
    assert len(policy_statements(parsed)) > 20


def test_no_wildcard_actions(parsed: dict[Path, dict[str, Any]]) -> None:
    """No wildcard in what a statement allows (a Deny may refuse s3:* — it grants nothing)."""
    allowing = [
        (where, statement)
        for where, statement in policy_statements(parsed)
        if unquote(statement.get("effect", '"Allow"')) == "Allow"
    ]
    assert len(allowing) > 20
    offenders = [
        (where, action)
        for where, statement in allowing
        for action in map(unquote, statement.get("actions", []))
        if "*" in action
    ]
    assert not offenders
    assert not [
        where for where, statement in policy_statements(parsed) if "not_actions" in statement
    ]


def test_every_statement_names_actions(parsed: dict[Path, dict[str, Any]]) -> None:
    statements = policy_statements(parsed)
    assert statements
    assert not [where for where, statement in statements if not statement.get("actions")]


def test_policies_are_policy_documents_not_inline_json() -> None:
    """Every policy goes through aws_iam_policy_document, so the rules above see all of them."""
    inline = [
        f"{path.relative_to(TERRAFORM_DIR)}:{n}"
        for path in tf_files()
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bAction\b", line)
    ]
    assert not inline


def test_resource_wildcards_carry_their_reason() -> None:
    """`resources = ["*"]` only where AWS requires it, each saying so on the line."""
    lines = [
        (path, n, line)
        for path in tf_files()
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r'resources\s*=\s*\[\s*"\*"\s*\]', line)
    ]
    assert lines  # X-Ray and the key policy need them: the rule is exercised
    unexplained = [
        f"{p.relative_to(TERRAFORM_DIR)}:{n}" for p, n, line in lines if "# required:" not in line
    ]
    assert not unexplained


def test_every_checkov_skip_has_a_reason() -> None:
    from tests.terraform.conftest import load_tool

    skips = list(load_tool("tf_check").skip_comments())
    assert skips
    assert not [(str(p), n, check) for p, n, check, why in skips if len(why) < 20]


def test_every_per_dataset_delivery_resource_keeps_the_readings_address(
    parsed: dict[Path, dict[str, Any]],
) -> None:
    """modules/lake/firehose.tf defines each delivery-stream resource once per dataset
    (for_each = local.deliveries); they were single resources, so envs/dev/moved.tf moves each to
    its ["readings"] instance and an existing state keeps its readings delivery stream."""
    per_dataset = {
        f"module.lake.{unquote(type_)}.{unquote(name)}"
        for block in parsed[MODULES_DIR / "lake" / "firehose.tf"]["resource"]
        for type_, bodies in block.items()
        for name, body in bodies.items()
        if body.get("for_each") == "${local.deliveries}"
    }
    assert len(per_dataset) == 7  # delivery stream, role, policy, log group and stream, 2 alarms
    moves = {
        (move["from"].removeprefix("${").removesuffix("}"), move["to"])
        for move in parsed[ENV_DIR / "moved.tf"]["moved"]
    }
    assert {(a, f'${{{a}["readings"]}}') for a in per_dataset} <= moves


def test_the_ingest_role_allows_every_call_of_the_nightscout_documents_adapter(
    parsed: dict[Path, dict[str, Any]],
) -> None:
    """Moto does not enforce IAM: a DynamoDB call the adapter gains must be granted here, or the
    deployed API fails with AccessDenied where every local test passed."""
    source = (TERRAFORM_DIR.parent / "glucosestream/adapters/nightscout_documents.py").read_text()
    called = {
        "dynamodb:" + "".join(word.title() for word in operation.split("_"))
        for operation in re.findall(r"self\.client\.(\w+)\(", source)
    }
    (statement,) = [
        statement
        for where, statement in policy_statements(parsed)
        if where.startswith("modules/ingest/")
        and unquote(statement.get("sid", "")) == "NightscoutDocuments"
    ]
    assert len(called) >= 5
    assert called <= set(map(unquote, statement["actions"]))
