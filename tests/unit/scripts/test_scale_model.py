"""scripts/scale_model.py: the arithmetic on hand-computed cases, the staleness check, and the
doc in the repository is what the script generates from the parameters in the repository."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model() -> ModuleType:
    path = ROOT / "scripts" / "scale_model.py"
    spec = importlib.util.spec_from_file_location("scale_model", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_model"] = module
    spec.loader.exec_module(module)
    return module


def parameters(**overrides: float) -> dict[str, object]:
    values = {
        "avro_bytes_per_reading": 135.0,
        "partition_key_bytes": 34.0,
        "transform_cpu_seconds_per_reading": 0.00002,
        "firehose_json_bytes_per_reading": 345.0,
        "dynamodb_writes_per_reading": 1.0,
        "dynamodb_reads_per_reading": 1.0,
        "dynamodb_item_bytes": 1200.0,
        "dynamodb_write_units_per_write": 2.0,
        "alerts_per_patient_day": 1.0,
        "curated_parquet_bytes_per_reading": 40.0,
        "marts_bytes_per_patient_day": 400.0,
    } | overrides
    found: dict[str, object] = {k: {"value": v, "unit": "", "how": ""} for k, v in values.items()}
    found["kpl_readings_per_record_producer"] = {
        "value": 286.0,
        "unit": "",
        "how": "",
        "bytes_per_reading": 155.0,
    }
    found["raw_parquet_bytes_per_reading"] = {
        "value": 90.0,
        "unit": "",
        "how": "",
        "by_file_rows": [
            {"rows_per_file": 200, "snappy": 120.0, "zstd": 70.0},
            {"rows_per_file": 200_000, "snappy": 90.0, "zstd": 50.0},
        ],
    }
    found["athena_bytes_scanned_per_window_reading"] = {
        "value": 120.0,
        "unit": "",
        "how": "",
        "largest_statement": 40.0,
    }
    return found


def test_the_scenarios_rates(model: ModuleType) -> None:
    rates = {s.name: s.readings_per_s for s in model.SCENARIOS}
    assert rates["1M, 5 min"] == pytest.approx(3_333.33, abs=0.01)
    assert rates["1M, 1 min"] == pytest.approx(16_666.67, abs=0.01)


def test_shards_take_the_tighter_of_records_and_bytes(model: ModuleType) -> None:
    # 3,333 readings/s of 169 B: 0.56 MB/s, but 3,333 records/s -> 4 shards by records.
    assert model.shards(3_333.33, 3_333.33 * 169) == 4
    # Aggregated 286 a record: 11.7 records/s, 3,333 x 155 B = 0.52 MB/s -> 1 shard.
    assert model.shards(3_333.33 / 286, 3_333.33 * 155) == 1
    # 16,667 readings/s aggregated: 2.58 MB/s -> 3 shards by bytes.
    assert model.shards(16_666.67 / 286, 16_666.67 * 155) == 3
    assert model.shards(0.1, 10) == 1


def test_capacity_at_one_million(model: ModuleType) -> None:
    million = model.SCENARIOS[2]
    cap = model.capacity(parameters(), million, model.Estimates())
    assert cap["shards_plain"] == 4
    assert cap["shards_kpl"] == 1
    assert cap["shards_on_demand"] == 8
    # 833 readings/s a shard: each shard's 1 s window ends before its 1,000-record batch fills.
    assert cap["alerts_invocations_s"] == pytest.approx(4.0)
    assert cap["readings_per_batch"] == pytest.approx(3_333.33 / 4, abs=0.01)
    assert cap["alerts_concurrency_available"] == 4
    assert cap["ddb_wcu_s"] == pytest.approx(6_666.67, abs=0.01)
    assert cap["ddb_rcu_s"] == pytest.approx(3_333.33, abs=0.01)
    # 60 s of 3,333/s = 200,000 rows, but 64 MiB / 345 B = 194,519 rows fill the buffer first.
    assert cap["rows_per_file"] == pytest.approx(64 * 2**20 / 345)
    # 1M x 288 x 14 readings in the window x 120 B.
    assert cap["athena_gb_run"] == pytest.approx(1e6 * 288 * 14 * 120 / 1e9)
    assert cap["athena_largest_statement_gb"] > 10 * 2**30 / 1e9


def test_alerts_batches_fill_before_the_window_at_a_high_rate_per_shard(
    model: ModuleType,
) -> None:
    # 1M at 1 min: 17 shards by records, 980 readings/s a shard -> 1 s windows of 980.
    cap = model.capacity(parameters(), model.SCENARIOS[3], model.Estimates())
    assert cap["shards_plain"] == 17
    assert cap["alerts_invocations_s"] == pytest.approx(17.0)
    fast = model.Estimates(batch_size=100)
    # Batches of 100 fill ~9.8 times a second on each shard: the rate / 100 a second in all.
    cap = model.capacity(parameters(), model.SCENARIOS[3], fast)
    assert cap["alerts_invocations_s"] == pytest.approx(16_666.67 / 100, abs=0.01)


def test_interpolation_is_log_linear_and_clamped(model: ModuleType) -> None:
    points = [(200.0, 120.0), (200_000.0, 90.0)]
    assert model.interpolate(points, 100) == 120.0
    assert model.interpolate(points, 1e7) == 90.0
    assert model.interpolate(points, 200 * 31.6227766) == pytest.approx(105.0)


def test_monthly_cost_hand_computed_lines(model: ModuleType) -> None:
    one_k = model.SCENARIOS[0]
    cost = model.monthly_cost(parameters(), one_k, model.Estimates())
    readings = 1_000 / 300 * 3600 * 730
    assert cost["SNS publishes"] == pytest.approx(1_000 * 730 / 24 / 1e6 * 0.50)
    assert cost["DynamoDB on demand"] == pytest.approx(
        readings * 2 / 1e6 * 0.625 + readings / 1e6 * 0.125 + 1_000 * 1200 / 2**30 * 0.25
    )
    # 1,000 x 288 x 14 window readings x 120 B a run, 720 runs, $5 a TiB (above the 10 MB
    # minimum of 16 statements a run).
    assert cost["Athena"] == pytest.approx(1_000 * 288 * 14 * 120 * 720 / 2**40 * 5)
    tiny = model.Scenario("10, 5 min", 10, 5)
    assert model.monthly_cost(parameters(), tiny, model.Estimates())["Athena"] == pytest.approx(
        16 * 720 * 10 * 2**20 / 2**40 * 5
    )


def test_kinesis_with_kpl_aggregation_hand_computed(model: ModuleType) -> None:
    million = model.SCENARIOS[2]
    cost = model.monthly_cost(parameters(), million, model.Estimates())
    readings = 1e6 / 300 * 3600 * 730
    aggregates = readings / 286
    # 286 x 155 B = 44,330 B an aggregate: 2 PUT units of 25 KB, 44 KB billed on demand.
    assert cost["Kinesis provisioned, KPL aggregation"] == pytest.approx(
        1 * 730 * 0.015 + aggregates * 2 / 1e6 * 0.014
    )
    assert cost["Kinesis on demand, KPL aggregation"] == pytest.approx(
        730 * 0.04 + aggregates * 44 * 1024 / 2**30 * 0.08 + readings * 155 * 2 / 2**30 * 0.04
    )


def test_check_detects_a_stale_doc(model: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "parameters.json"
    document = {"measured_on": "2026-12-06", "command": "x", "parameters": parameters()}
    source.write_text(json.dumps(document))
    doc = tmp_path / "scale.md"
    doc.write_text(f"# prose\n\n{model.BEGIN}\nold\n{model.END}\n\nmore prose\n")
    assert model.main(["--check", str(doc), "--parameters", str(source)]) == 1
    assert model.main(["--write", str(doc), "--parameters", str(source)]) == 0
    text = doc.read_text()
    assert text.startswith("# prose\n")
    assert text.endswith("more prose\n")
    assert model.main(["--check", str(doc), "--parameters", str(source)]) == 0
    document["parameters"] = parameters(dynamodb_write_units_per_write=1.0)
    source.write_text(json.dumps(document))
    assert model.main(["--check", str(doc), "--parameters", str(source)]) == 1


def test_the_doc_in_the_repository_is_up_to_date(model: ModuleType) -> None:
    assert model.main(["--check", str(ROOT / "docs" / "scale.md")]) == 0


def test_every_price_names_its_page_and_how_it_was_checked(model: ModuleType) -> None:
    for name, price in model.PRICES.items():
        assert price.page.startswith("https://aws.amazon.com/"), name
        assert price.status.startswith(("verified from", "not verified here", "not seen")), name
        assert "2026-12-06" in price.status, name
