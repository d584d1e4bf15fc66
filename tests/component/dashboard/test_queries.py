"""The query adapter over DuckDB: the simulated lake's marts, read back through LakeQueries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb
import pytest

from glucosestream.dashboard.queries import COHORT, DAILY_READINGS, LakeQueries
from glucosestream.domain.metrics.iglu_profile import NUMERIC_COLUMNS
from glucosestream.local.lake import table_location
from tests.component.dashboard.lake import Lake


def mart(lake: Lake, table: str, where: str = "true") -> list[dict[str, Any]]:
    location = table_location(lake.settings, table)
    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{location}/**/*.parquet', hive_partitioning = true) "
        f"WHERE {where}"
    )
    return relation.to_arrow_table().to_pylist()


def test_periods_and_cohort_come_from_the_marts(lake: Lake, queries: LakeQueries) -> None:
    assert queries.periods() == [lake.periods[1], lake.periods[0]]
    cohort = queries.cohort(lake.periods[1])
    expected = {
        r["patient_id"]: r["tir_70_180"]
        for r in mart(lake, "patient_period_metrics", f"period_end = '{lake.periods[1]}'")
    }
    assert dict(zip(cohort["patient_id"], cohort["tir_70_180"], strict=True)) == expected
    previous = {
        r["patient_id"]: r["tir_70_180"]
        for r in mart(lake, "patient_period_metrics", f"period_end = '{lake.periods[0]}'")
    }
    assert dict(zip(cohort["patient_id"], cohort["previous_tir"], strict=True)) == previous


def test_patient_queries_return_only_that_patient_and_period(
    lake: Lake, queries: LakeQueries
) -> None:
    patient = queries.cohort(lake.periods[1])["patient_id"][1]
    end = lake.periods[1]
    agp = queries.agp(patient, end)
    rows = mart(lake, "agp_profile", f"patient_id = '{patient}' AND period_end = '{end}'")
    assert agp["p50"] == [r["p50"] for r in sorted(rows, key=lambda r: r["slot"])]
    episodes = queries.episodes(patient, end)
    assert len(episodes["type"]) == len(
        mart(lake, "glycemic_episodes", f"patient_id = '{patient}' AND period_end = '{end}'")
    )
    iglu = queries.iglu_metrics(patient, end)
    iglu_rows = mart(
        lake, "patient_period_metrics_iglu", f"patient_id = '{patient}' AND period_end = '{end}'"
    )
    assert len(iglu["metric"]) == len(iglu_rows) == len(NUMERIC_COLUMNS)
    by_metric = {r["metric"]: r["value"] for r in iglu_rows}
    assert dict(zip(iglu["metric"], iglu["value"], strict=True)) == by_metric
    period = queries.patient_period(patient, end)
    assert period is not None
    assert by_metric["mean_glu.mean"] == pytest.approx(period["mean"], rel=1e-12)
    assert period["period_end"] == end
    assert queries.patient_period(patient, end + timedelta(days=1)) is None
    first = end - timedelta(days=13)
    readings = queries.daily_readings(patient, first, end)
    days = {t.date() for t in readings["local_time"]}
    assert min(days) >= first
    assert max(days) <= end
    assert len(readings["local_time"]) == period["n_readings"]  # the same readings as the mart


def test_user_input_is_a_parameter_not_sql(queries: LakeQueries, lake: Lake) -> None:
    hostile = "x' OR '1'='1"
    assert queries.patient_periods(hostile) == []
    assert queries.agp(hostile, lake.periods[1]) == {
        name: [] for name in ("slot", "slot_start", "n_readings", "p05", "p25", "p50", "p75", "p95")
    }
    for query in (COHORT, DAILY_READINGS):
        assert "'" not in query.sql  # no literal could have been pasted in
