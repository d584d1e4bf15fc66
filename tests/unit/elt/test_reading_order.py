"""Readings in series order and each identity's first copy: the order Arrow's stable sort
gives, whether the rows come sorted or not, and the copies SQL's ``row_number() ... = 1`` keeps."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.elt.reading_order import (
    SERIES_ORDER,
    first_copies,
    series_order,
)
from tests.factories import cohort_period_readings

SORT_KEYS = [(name, "ascending") for name in SERIES_ORDER]


@pytest.fixture(scope="module")
def cohort() -> pa.Table:
    return cohort_period_readings(patients=6, days=3)


def shuffled(table: pa.Table, seed: int = 3) -> pa.Table:
    return table.take(pa.array(np.random.default_rng(seed).permutation(table.num_rows)))


def arrow_sorted(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=SORT_KEYS))


def test_the_series_order_is_arrows_stable_sort(cohort: pa.Table) -> None:
    """Rows ranked with numpy are in the order Arrow's stable multi-key sort gives, ties (here
    duplicated rows) in input order; a null key keeps Arrow's sort itself."""
    twice = shuffled(pa.concat_tables([cohort, cohort.slice(0, 4000)]), seed=5)
    expected = pc.sort_indices(twice, sort_keys=SORT_KEYS).to_numpy()
    order = series_order(twice).rows
    assert order is not None
    assert np.array_equal(order, expected)
    devices = twice.column("device_id").to_pylist()
    devices[7] = None
    with_null = twice.set_column(
        twice.schema.get_field_index("device_id"), "device_id", pa.array(devices, pa.string())
    )
    expected = pc.sort_indices(with_null, sort_keys=SORT_KEYS).to_numpy()
    order = series_order(with_null).rows
    assert order is not None
    assert np.array_equal(order, expected)


def test_rows_in_series_order_are_not_sorted_again(cohort: pa.Table) -> None:
    ordered = arrow_sorted(cohort)
    assert series_order(ordered).rows is None
    # One row out of place anywhere is found: patients out of order, a patient in two runs,
    # instants going back, devices out of order at one instant.
    first, second = ordered.slice(0, 10), ordered.slice(10)
    assert series_order(pa.concat_tables([second, first])).rows is not None
    rows = np.arange(ordered.num_rows)
    swapped = rows.copy()
    swapped[[100, 101]] = swapped[[101, 100]]
    assert series_order(ordered.take(pa.array(swapped))).rows is not None


rows = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p10", "p2", "P", "é"]),
        st.sampled_from(["dev-a", "dev-b", ""]),
        st.integers(0, 4),
        st.sampled_from([90.0, 91.0, 120.5]),
    ),
    min_size=0,
    max_size=40,
)


def table_of(values: list[tuple[str, str, int, float]], step_ms: int = 300_000) -> pa.Table:
    return pa.table(
        {
            "patient_id": pa.array([v[0] for v in values], pa.string()),
            "device_id": pa.array([v[1] for v in values], pa.string()),
            "measured_at": pa.array([v[2] * step_ms for v in values], pa.timestamp("ms", "UTC")),
            "glucose_mg_dl": pa.array([v[3] for v in values], pa.float64()),
            "input_row": pa.array(range(len(values)), pa.int64()),
        }
    )


@given(rows, st.sampled_from([300_000, -1, 2**60]), st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_series_order_and_runs_are_arrows_for_any_rows(
    values: list[tuple[str, str, int, float]], step_ms: int, presorted: bool
) -> None:
    # Given rows with repeated patients, instants and devices, instants far apart (2**60 ms:
    # the keys cannot be packed into one integer) or negative, sometimes sorted already
    table = table_of(values, step_ms)
    if presorted:
        table = arrow_sorted(table)
    # When their series order is found
    order = series_order(table)
    # Then it is Arrow's stable sort, and the runs are each patient's rows, in id order
    expected = pc.sort_indices(table, sort_keys=SORT_KEYS).to_numpy()
    rows = np.arange(table.num_rows) if order.rows is None else order.rows
    assert rows.tolist() == expected.tolist()
    patients = table.column("patient_id").take(pa.array(rows, pa.int64())).to_pylist()
    runs = list(itertools.pairwise(order.bounds.tolist()))
    assert [patients[start:end] for start, end in runs] == [
        [patient] * (end - start)
        for patient, (start, end) in zip(order.patients, runs, strict=True)
    ]
    assert order.patients == sorted(set(patients), key=str.encode)
    instants = table.column("measured_at").cast(pa.int64()).take(pa.array(rows, pa.int64()))
    assert order.instants.tolist() == instants.to_pylist()
    if presorted:  # found in order: nothing to sort
        assert order.rows is None


@given(rows, st.booleans())
@settings(max_examples=300, deadline=None)
def test_first_copies_are_the_rows_sql_keeps_and_their_order_is_theirs(
    values: list[tuple[str, str, int, float]], presorted: bool
) -> None:
    # Given readings with repeated identities (same patient, device, instant), sometimes
    # already in series order
    table = table_of(values)
    if presorted:
        table = arrow_sorted(table)
    # When the first copies are taken
    kept, order = first_copies(table)
    # Then they are the first copy in input order of each identity, in input order (SQL:
    # row_number() OVER (PARTITION BY identity ORDER BY input_row) = 1)
    seen: set[tuple[object, ...]] = set()
    first = []
    for row in table.to_pylist():
        identity = (row["patient_id"], row["device_id"], row["measured_at"])
        if identity not in seen:
            seen.add(identity)
            first.append(row["input_row"])
    assert kept.column("input_row").to_pylist() == first
    chosen = pc.is_in(table.column("input_row"), value_set=pa.array(first, pa.int64()))
    assert kept.to_pylist() == table.filter(chosen).to_pylist()
    # And the order handed on with them is the one found for them afresh
    found = series_order(kept)
    rows = np.arange(kept.num_rows)
    assert (rows if order.rows is None else order.rows).tolist() == (
        rows if found.rows is None else found.rows
    ).tolist()
    assert order.bounds.tolist() == found.bounds.tolist()
    assert order.patients == found.patients
    assert order.instants.tolist() == found.instants.tolist()
