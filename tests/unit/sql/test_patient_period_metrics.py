"""marts/patient_period_metrics.sql on the local Athena (DuckDB): the exact median, counted per
distinct value, against Python's ``statistics.median``."""

from __future__ import annotations

import statistics
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

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
