"""Rows by code, then instant, ties in input order: the packed sort, the already-ordered case
and the lexsort fallback all give Python's stable sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from glucosestream.domain.stable_order import order_by_code_then_instant

keys = st.lists(st.tuples(st.integers(-2, 5), st.integers(0, 6)), max_size=40)


@given(
    keys,
    st.sampled_from([1, -1, 2**59]),
    st.sampled_from([1, 2**16]),
    st.sampled_from(["any", "sorted", "by instant"]),
)
@settings(max_examples=400, deadline=None)
def test_the_order_is_pythons_stable_sort(
    rows: list[tuple[int, int]], scale: int, code_scale: int, arrangement: str
) -> None:
    # Given codes (negative ones cannot be packed, from 2**16 on they are not radix-sorted)
    # and instants near or far apart (2**59: the two cannot be packed into one int64), in any
    # order, in order already, or each code's rows in time order (many patients' readings as
    # they arrive)
    rows = [(code * code_scale, instant) for code, instant in rows]
    if arrangement == "sorted":
        rows = sorted(rows, key=lambda r: (r[0], r[1] * scale))
    elif arrangement == "by instant":
        rows = sorted(rows, key=lambda r: r[1] * scale)
    codes = np.array([r[0] for r in rows], np.int64)
    instants = np.array([r[1] * scale for r in rows], np.int64)
    # When ordered, Then it is the stable sort by (code, instant)
    expected = sorted(range(len(rows)), key=lambda i: (codes[i], instants[i]))
    assert order_by_code_then_instant(codes, instants).tolist() == expected
