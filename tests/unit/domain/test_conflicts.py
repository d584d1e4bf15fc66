"""Conflicting copies of one reading identity: the columnar count equals the per-reading one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.conflicts import ConflictReport, find_conflicts, find_conflicts_in_arrays

readings = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.sampled_from([90.0, 91.0, 120.5])),
    max_size=40,
)


@given(readings, st.sampled_from([1, -1, 2**58]), st.booleans())
@settings(max_examples=400, deadline=None)
def test_columns_give_the_same_count_and_example_as_the_per_reading_search(
    rows: list[tuple[int, int, float]], scale: int, in_identity_order: bool
) -> None:
    # Given readings as (stream, instant, glucose), duplicates and conflicts likely; instants
    # far apart (2**58: the keys cannot be packed into one int64) or negative; sometimes in
    # identity order already (a file written patient by patient)
    if in_identity_order:
        rows = sorted(rows, key=lambda r: (r[0], r[1] * scale))
    streams = np.array([r[0] for r in rows], np.int64)
    instants = np.array([r[1] * scale for r in rows], np.int64)
    glucose = np.array([r[2] for r in rows], np.float64)

    # When conflicts are found per reading and as columns
    expected = find_conflicts([(r[0], r[1]) for r in rows], [r[2] for r in rows], str)
    found = find_conflicts_in_arrays(streams, instants, glucose, str)

    # Then both count the same identities and give the same first example
    assert found == expected


def test_a_conflict_is_described_by_its_first_two_differing_copies() -> None:
    streams = np.array([0, 1, 0, 0, 1], np.int64)
    instants = np.array([5, 5, 5, 5, 5], np.int64)
    glucose = np.array([100.0, 80.0, 100.0, 101.0, 80.0])
    report = find_conflicts_in_arrays(streams, instants, glucose, lambda i: f"row {i}")
    assert report == ConflictReport(1, "100 mg/dL (row 0) and 101 mg/dL (row 3)")
    assert find_conflicts_in_arrays(streams[:0], instants[:0], glucose[:0], str).identities == 0
