"""marts/patient_period_metrics.sql on the local Athena (DuckDB): the exact median, counted per
distinct value, against Python's ``statistics.median``; the metrics computed from counts per
value or from each day's extremes against their per-reading definitions."""

from __future__ import annotations

import statistics
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.metrics.adrr import adrr
from glucosestream.domain.metrics.grade import grade
from glucosestream.domain.metrics.hbgi import hbgi
from glucosestream.domain.metrics.lbgi import lbgi
from glucosestream.domain.metrics.m_value import m_value
from tests.unit.sql.period_readings import Reading, run_mart, utc

MART = "marts/patient_period_metrics.sql"
START = utc("2026-01-05T00:00:00")

glucose = st.one_of(
    st.integers(39, 401).map(float),  # whole mg/dL, as sensors report
    st.floats(39.0, 401.0, allow_nan=False).map(lambda g: round(g, 3)),
)
patients = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.lists(st.one_of(glucose, st.sampled_from([100.0, 101.0])), min_size=1, max_size=30),
    min_size=1,
)


@given(patients)
@settings(max_examples=60, deadline=None)
def test_the_median_is_the_middle_of_the_ordered_readings(values: dict[str, list[float]]) -> None:
    # Given patients with odd and even counts of readings, values repeated or not
    readings: list[Reading] = [
        (patient, START + timedelta(minutes=5 * i), 0, g)
        for patient, glucose_values in values.items()
        for i, g in enumerate(glucose_values)
    ]
    # When the mart runs
    rows = run_mart(MART, readings, "n_readings")
    # Then each patient's median is Python's (the mean of the two middle values for even n)
    medians = {patient: row["median"] for (patient, _), row in rows.items()}
    assert medians == {patient: statistics.median(g) for patient, g in values.items()}


def test_hand_computed_medians() -> None:
    def median_of(values: list[float]) -> float:
        readings = [("p", START + timedelta(minutes=5 * i), 0, g) for i, g in enumerate(values)]
        ((_, row),) = run_mart(MART, readings, "n_readings").items()
        return float(row["median"])

    assert median_of([150.0, 50.0, 100.0]) == 100.0  # odd: the middle one
    assert median_of([250.0, 50.0, 150.0, 100.0]) == 125.0  # even: (100 + 150) / 2
    assert median_of([100.0, 100.0, 90.0, 120.0]) == 100.0  # both middles one value
    assert median_of([70.0]) == 70.0


days_of_readings = st.lists(
    st.lists(
        st.one_of(glucose, st.sampled_from([40.0, 112.0, 112.5, 112.51, 113.0, 300.0])), min_size=1
    ),
    min_size=1,
    max_size=3,
)


@given(days_of_readings)
@settings(max_examples=60, deadline=None)
def test_value_count_metrics_equal_the_per_reading_definitions(days: list[list[float]]) -> None:
    # Given one patient's readings over one to three local days, values often repeated (the
    # mart computes LBGI, HBGI, M-value and GRADE from counts per distinct value, ADRR from
    # each day's lowest and highest reading)
    readings: list[Reading] = [
        ("p", START + timedelta(days=day, minutes=5 * i), 60, g)
        for day, values in enumerate(days)
        for i, g in enumerate(values)
    ]
    # When the mart runs
    ((_, row),) = run_mart(MART, readings, "n_readings").items()
    # Then each equals its per-reading definition in the domain package (iglu 4.3.0's)
    glucose_values = np.array([r[3] for r in readings])
    local_ms = np.array(
        [int((r[1] + timedelta(minutes=r[2])).timestamp() * 1000) for r in readings], np.int64
    )
    expected = {
        "lbgi": lbgi(glucose_values)["LBGI"],
        "hbgi": hbgi(glucose_values)["HBGI"],
        "m_value": m_value(glucose_values)["M_value"],
        "grade": grade(glucose_values)["GRADE"],
        "adrr": adrr(local_ms, glucose_values)["ADRR"],
    }
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name
