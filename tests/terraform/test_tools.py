"""terraform/tools/tf_check.py and scripts/build_lambdas.py: mirror discovery, honest skips,
reproducible zips."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.terraform.conftest import REPO_ROOT, load_tool


@pytest.fixture(scope="module")
def tf_check() -> ModuleType:
    return load_tool("tf_check")


@pytest.fixture(scope="module")
def build() -> ModuleType:
    path = REPO_ROOT / "scripts" / "build_lambdas.py"
    spec = importlib.util.spec_from_file_location("build_lambdas", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_lambdas"] = module
    spec.loader.exec_module(module)
    return module


def fake_mirror(root: Path) -> Path:
    plugin = root / "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    plugin.mkdir(parents=True)
    (plugin / "terraform-provider-aws_v5.100.0_x5").write_bytes(b"")
    return root


def test_mirror_named_by_the_environment_is_found(
    tf_check: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(fake_mirror(tmp_path / "mirror")))
    assert tf_check.find_mirror() == tmp_path / "mirror"


def test_no_mirror_means_the_registry(
    tf_check: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tf_check, "MIRROR_ROOTS", (str(tmp_path / "nothing-here"),))
    monkeypatch.delenv("TF_PLUGIN_MIRROR", raising=False)
    assert tf_check.find_mirror() is None
    assert tf_check.cli_config(None) is None


def test_cli_config_selects_the_mirror_for_hashicorp_only(
    tf_check: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tf_check, "WORK_DIR", tmp_path / "work")
    config = tf_check.cli_config(fake_mirror(tmp_path / "mirror")).read_text()
    assert f'path    = "{tmp_path / "mirror"}"' in config
    assert 'include = ["registry.terraform.io/hashicorp/*"]' in config
    assert 'exclude = ["registry.terraform.io/hashicorp/*"]' in config  # direct: everything else


def test_without_terraform_the_checks_are_skipped_not_passed(
    tf_check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tf_check, "terraform_binary", lambda: None)
    results = [tf_check.check_fmt(), *tf_check.check_validate()]
    assert [r.status for r in results] == ["SKIPPED", "SKIPPED"]
    assert tf_check.main(["fmt"]) == 0  # a skip fails nothing, and says so


def test_without_checkov_the_scan_is_skipped(
    tf_check: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tf_check, "CHECKOV", tmp_path / "no-checkov")
    assert tf_check.check_checkov().status == "SKIPPED"


def test_a_failed_check_fails_the_run(
    tf_check: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tf_check, "check_fmt", lambda: tf_check.Result("fmt", "FAILED", "x"))
    assert tf_check.main(["fmt"]) == 1


def test_every_module_and_env_is_validated(tf_check: ModuleType) -> None:
    names = {p.relative_to(REPO_ROOT / "terraform").as_posix() for p in tf_check.roots()}
    assert {"modules/stream", "modules/lake", "modules/elt", "envs/dev"} <= names


def test_zip_is_reproducible(build: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "b.py").write_text("b = 2\n")
    (source / "a.py").write_text("a = 1\n")
    entries = [("pkg/b.py", source / "b.py"), ("pkg/a.py", source / "a.py")]
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    build.write_zip(first, entries)
    (source / "a.py").touch()  # a newer mtime must not change the archive
    build.write_zip(second, list(reversed(entries)))
    assert (
        hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    )
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["pkg/a.py", "pkg/b.py"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}


def test_code_zip_holds_the_handlers_and_assets(build: ModuleType, tmp_path: Path) -> None:
    names = {name for name, _ in build.code_entries(REPO_ROOT)}
    handlers = sorted(REPO_ROOT.glob("consumers/*/handler.py"))
    assert handlers
    for handler in handlers:
        assert handler.relative_to(REPO_ROOT).as_posix() in names
    assert "sfn/pipeline.asl.json" in names
    assert "schemas/glucose_reading.v1.avsc" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_layer_pins_what_the_venv_runs(build: ModuleType) -> None:
    from importlib import metadata

    pins = dict(r.split("==") for r in build.pinned_requirements())
    assert pins["aws-lambda-powertools"] == metadata.version("aws-lambda-powertools")
    assert pins["pydantic-core"] == metadata.version("pydantic-core")
    assert not {"boto3", "botocore"} & set(pins)  # the Lambda runtime provides them


def test_the_aws_rehearsal_compares_doubles_within_a_tolerance() -> None:
    """Athena and DuckDB sum in their own order: an SD that differs in the 12th digit is the
    same mart value (a CI run failed on 58.4562462907 vs ...908); a real difference is not."""
    rehearsal = load_tool("aws_rehearsal")
    aws = [(("patient_id", "p_2"), ("sd", 58.45624629074)), (("patient_id", "p_1"), ("sd", 1.0))]
    local = [(("patient_id", "p_1"), ("sd", 1.0)), (("patient_id", "p_2"), ("sd", 58.45624629075))]
    aligned = zip(rehearsal.sorted_rows(aws), rehearsal.sorted_rows(local), strict=True)
    assert all(rehearsal.same_row(a, b) for a, b in aligned)
    assert not rehearsal.same_row((("sd", 58.4562),), (("sd", 58.4563),))
    assert not rehearsal.same_row((("n", 216),), (("n", 215),))
    assert rehearsal.same_row((("cv", float("nan")),), (("cv", float("nan")),))
