"""The grid metrics of a chunk of patients equal those computed one patient at a time, as
``glucosestream metrics`` / ``episodes`` compute them, from the same readings read through the
local engine (DuckDB)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from glucosestream.domain.metrics import active_percent, conga, episodes, mag, mage, modd
from glucosestream.elt.grid_metrics import (
    EPISODES_SCHEMA,
    GRID_COLUMNS,
    GRID_METRICS_SCHEMA,
    PatientSeries,
    ReadingsError,
    grid_metrics,
    grid_tables,
    local_epoch_ms,
    on_wall_clock,
    patient_grid,
    patient_series,
)
from glucosestream.local.athena import LocalAthena
from glucosestream.reports.metrics import METRIC_COLUMNS
from glucosestream.warehouse.sql_text import Statement
from tests.factories import cohort_period_readings

START, END = date(2026, 1, 5), date(2026, 1, 18)


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return cohort_period_readings(patients=12, days=14)


@pytest.fixture(scope="module")
def engine(cohort: pa.Table) -> LocalAthena:
    """The local ELT's view of the same readings: ``period_readings`` in DuckDB."""
    local = LocalAthena()
    local.register("period_readings", cohort)
    return local


def period_series(engine: LocalAthena) -> dict[str, PatientSeries]:
    """Each patient's series of ``period_readings`` as the local engine returns them."""
    columns = "patient_id, device_id, measured_at, local_time, glucose_mg_dl"
    query = f"SELECT {columns} FROM {engine.database}.period_readings"
    return patient_series(engine.run(Statement(query)))


def local_series(engine: LocalAthena) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each patient's (continuous local time axis in epoch ms, glucose)."""
    return {p: (s.times, s.glucose) for p, s in period_series(engine).items()}


def shuffled(table: pa.Table, seed: int = 3) -> pa.Table:
    return table.take(pa.array(np.random.default_rng(seed).permutation(table.num_rows)))


def test_the_cohort_is_realistic(cohort: pa.Table) -> None:
    patients = pc.unique(cohort.column("patient_id"))
    assert len(patients) == 12
    glucose = cohort.column("glucose_mg_dl")
    assert pc.min(glucose).as_py() < 70 < 180 < pc.max(glucose).as_py()
    # Equality with the SQL-ordered series is well defined: no two readings of a patient share
    # a local instant in this cohort (those are ordered by measured_at, tested below).
    keys = cohort.group_by(["patient_id", "local_time"]).aggregate([])
    assert keys.num_rows == cohort.num_rows


def test_grid_metrics_equal_the_metrics_command(cohort: pa.Table, engine: LocalAthena) -> None:
    mart = [
        {"patient_id": patient, **grid_metrics(times, glucose)}
        for patient, (times, glucose) in local_series(engine).items()
    ]
    tables = grid_tables(shuffled(cohort), START, END)
    assert tables.metrics.schema == GRID_METRICS_SCHEMA
    got = {row["patient_id"]: row for row in tables.metrics.to_pylist()}
    assert len(got) == len(mart) == 12
    compared = 0
    for row in mart:
        mine = got[row["patient_id"]]
        assert (mine["period_start"], mine["period_end"]) == (START, END)
        for column in GRID_COLUMNS:
            expected, actual = row[column], mine[column]
            same = (expected == actual) or (expected != expected and actual != actual)  # NaN
            assert same, (row["patient_id"], column, expected, actual)
            compared += 1
    assert compared == 12 * len(GRID_COLUMNS)
    assert set(GRID_COLUMNS) < set(METRIC_COLUMNS)
    assert [c for c in METRIC_COLUMNS if c in GRID_COLUMNS] == list(GRID_COLUMNS)


def test_episodes_equal_the_episodes_command(cohort: pa.Table, engine: LocalAthena) -> None:
    def naive(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(tzinfo=None)

    expected = [
        (patient, e.kind, e.level, naive(e.start_ms), naive(e.end_ms), e.duration_min,
         e.extreme_mg_dl, e.mean_mg_dl, e.exclusive, END)
        for patient, series in period_series(engine).items()
        for e in (on_wall_clock(found, series)
                  for found in episodes(series.times, series.glucose).episodes)
    ]  # fmt: skip
    got = grid_tables(shuffled(cohort), START, END).episodes
    assert len(expected) > 50  # a cohort with diabetes has episodes of every kind
    assert {row[1] for row in expected} == {"hypo", "hyper"}
    assert got.schema == EPISODES_SCHEMA
    assert [tuple(row.values()) for row in got.to_pylist()] == expected


def test_series_equal_the_local_series(cohort: pa.Table, engine: LocalAthena) -> None:
    expected = local_series(engine)
    got = patient_series(shuffled(cohort, seed=11))
    assert len(expected) == 12
    assert list(got) == sorted(expected)
    for patient, (times, glucose) in expected.items():
        assert np.array_equal(got[patient].times, times)
        assert np.array_equal(got[patient].glucose, glucose)


def test_a_chunk_is_the_union_of_its_patients(cohort: pa.Table) -> None:
    """Splitting the patients over chunks (Distributed Map batches) changes no value."""
    patients = sorted(set(cohort.column("patient_id").to_pylist()))
    whole = grid_tables(cohort, START, END)
    halves = [
        grid_tables(
            cohort.filter(pc.is_in(cohort.column("patient_id"), pa.array(part))), START, END
        )
        for part in (patients[:5], patients[5:])
    ]
    assert pa.concat_tables(h.metrics for h in halves).equals(whole.metrics)
    episodes = pa.concat_tables(h.episodes for h in halves)
    assert episodes.sort_by("patient_id").equals(whole.episodes.sort_by("patient_id"))


def test_readings_at_one_local_instant_keep_their_true_spacing() -> None:
    # Clocks going back: 01:30 local occurs twice, 60 minutes apart in UTC. On the continuous
    # axis (UTC + the first reading's offset) the second 01:30 is an hour after the first.
    local = pa.array([5_400_000, 5_400_000, 5_700_000], pa.timestamp("ms"))
    table = pa.table(
        {
            "patient_id": ["p", "p", "p"],
            "device_id": ["d", "d", "d"],
            "measured_at": pa.array([3_600_000, 0, 4_000_000], pa.timestamp("ms", tz="UTC")),
            "local_time": local,
            "glucose_mg_dl": [150.0, 100.0, 120.0],
        }
    )
    for order in ([0, 1, 2], [1, 0, 2], [2, 0, 1]):
        one = patient_series(table.take(pa.array(order)))["p"]
        times, glucose = one.times, one.glucose
        assert times.tolist() == [5_400_000, 9_000_000, 9_400_000]
        assert glucose.tolist() == [100.0, 150.0, 120.0]
        assert one.wall_clock(9_000_000) == 5_400_000  # shown as the wall clock's 01:30


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_local_times_in_any_unit_are_milliseconds(unit: str) -> None:
    ms = np.array([-1_500, 0, 1_767_571_200_123])
    per_unit = {"s": 0.001, "ms": 1, "us": 1000, "ns": 1_000_000}[unit]
    raw = np.floor(ms * per_unit).astype(np.int64)
    expected = raw * 1000 if unit == "s" else np.floor_divide(raw, per_unit).astype(np.int64)
    got = local_epoch_ms(pa.array(raw, pa.timestamp(unit)))
    assert got.tolist() == expected.tolist()
    if unit != "s":
        assert got.tolist() == ms.tolist()


def test_no_readings_give_empty_typed_tables() -> None:
    empty = cohort_period_readings(patients=1, days=1).slice(0, 0)
    tables = grid_tables(empty, START, END)
    assert tables.metrics.num_rows == tables.episodes.num_rows == 0
    assert tables.metrics.schema == GRID_METRICS_SCHEMA
    assert tables.episodes.schema == EPISODES_SCHEMA


def test_bad_readings_are_named() -> None:
    table = cohort_period_readings(patients=1, days=1)
    with pytest.raises(ReadingsError, match=r"lack the column\(s\) glucose_mg_dl"):
        grid_tables(table.drop_columns(["glucose_mg_dl"]), START, END)
    aware = table.set_column(
        table.schema.get_field_index("local_time"),
        "local_time",
        table.column("local_time").cast(pa.timestamp("ms", tz="UTC")),
    )
    with pytest.raises(ReadingsError, match="local_time must be a timestamp without time zone"):
        grid_tables(aware, START, END)


def awkward_patients(cohort: pa.Table) -> dict[str, PatientSeries]:
    """Real series cut into the shapes a shared grid could get wrong: too short to grid, a
    long gap, thinned to 45/50/50-minute steps (no grid at the estimated step, 50 minutes, yet
    a 5-minute MAGE grid across the 45-minute ones),
    thinned to 15 minutes (a step that is not MAGE's), missing glucose, a single day."""
    series = patient_series(cohort)
    base = next(iter(series.values()))
    t, g = base.times, base.glucose
    day = 288
    gappy = np.r_[0 : 3 * day, 3 * day + 72 : 6 * day]  # a 6-hour hole on day 4

    def cut(index: npt.ArrayLike, glucose: np.ndarray | None = None) -> PatientSeries:
        index = np.asarray(index)
        chosen = g[index] if glucose is None else glucose
        return PatientSeries(t[index], chosen, base.local_times[index])

    with_nan = g[: 2 * day].copy()
    with_nan[::7] = np.nan
    return {
        "one-reading": cut([0]),
        "two-readings": cut([0, 1]),
        "gappy": cut(gappy),
        "sparse": cut(np.cumsum(np.resize([9, 10, 10], t.size // 10))),
        "quarter-hourly": cut(np.arange(0, t.size, 3)),
        "missing-glucose": cut(np.arange(2 * day), with_nan),
        "one-day": cut(np.arange(day)),
    }


def test_the_shared_grid_equals_each_metric_on_its_own(cohort: pa.Table) -> None:
    """patient_grid builds a patient's grid once for every grid metric; each value equals the
    metric's own function (which builds its own grid), on the simulated cohort (5- and
    15-minute sensors, artefacts) and on awkward cuts of it."""
    everyone = {**patient_series(cohort), **awkward_patients(cohort)}
    compared = 0
    for patient, series in everyone.items():
        t, g = series.times, series.glucose
        alone = episodes(t, g)
        expected = {
            "active_percent": active_percent(t, g),
            "mag": mag(t, g),
            "modd": modd(t, g),
            "conga_1": conga(t, g, n=1),
            "conga_24": conga(t, g, n=24),
            "mage": mage(t, g),
            "hypo_lv1_episodes": alone.count("hypo", "lv1"),
            "hypo_lv2_episodes": alone.count("hypo", "lv2"),
            "hyper_lv1_episodes": alone.count("hyper", "lv1"),
            "hyper_lv2_episodes": alone.count("hyper", "lv2"),
        }
        got = patient_grid(patient, series)
        assert list(got.metrics) == list(GRID_COLUMNS)
        also = grid_metrics(t, g)
        for column, value in expected.items():
            for actual in (got.metrics[column], also[column]):
                assert value == actual or (value != value and actual != actual), (patient, column)
            compared += 1
        assert got.episodes == tuple(on_wall_clock(e, series) for e in alone.episodes), patient
    assert compared == len(everyone) * len(GRID_COLUMNS)
    # The cuts reach every branch: no grid at all, no grid at the estimated step but a MAGE,
    # a step other than MAGE's.
    awkward = {p: patient_grid(p, s).metrics for p, s in awkward_patients(cohort).items()}
    assert math.isnan(awkward["one-reading"]["mage"])
    assert math.isnan(awkward["sparse"]["conga_1"])
    assert not math.isnan(awkward["sparse"]["mage"])
    assert not math.isnan(awkward["quarter-hourly"]["mage"])
    assert not math.isnan(awkward["gappy"]["modd"])
