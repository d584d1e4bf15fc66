"""Comparison of a metric's output columns with R iglu 4.3.0's (tests/fixtures/iglu_r)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest

from tests.unit.domain.metrics.iglu_reference import GRID_TOLERANCE, NON_GRID_TOLERANCE


def assert_matches_r(
    ours: Mapping[str, float],
    theirs: Mapping[str, float | None],
    rel: float = NON_GRID_TOLERANCE,
) -> None:
    """Same column names as R; each value within ``rel`` (abs 1e-12), NaN where R has NA."""
    assert set(ours) == set(theirs)
    for column, want in theirs.items():
        got = ours[column]
        if want is None:
            assert math.isnan(got), f"{column}: R gives NA, got {got}"
        else:
            assert got == pytest.approx(want, rel=rel, abs=1e-12), column


def assert_matches_r_grid(ours: Mapping[str, float], theirs: Mapping[str, float | None]) -> None:
    """:func:`assert_matches_r` at the grid tolerance (metrics on R's interpolated grid)."""
    assert_matches_r(ours, theirs, rel=GRID_TOLERANCE)


def same_outputs(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Same keys and values, NaN equal to NaN (for the shared-grid checks)."""
    return set(a) == set(b) and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )
