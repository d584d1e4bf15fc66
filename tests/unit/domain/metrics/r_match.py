"""Comparing a metric's outputs with R iglu 4.3.0's (tests/fixtures/iglu_r)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest

from tests.unit.domain.metrics.iglu_reference import GRID_TOLERANCE


def assert_matches_r(
    ours: Mapping[str, float],
    theirs: Mapping[str, float | None],
    rel: float = GRID_TOLERANCE,
) -> None:
    """Every output of R is ours within ``rel``; R's NA (None) is our NaN; same output names."""
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        if value is None:
            assert math.isnan(ours[key]), f"{key}: R gives NA, we give {ours[key]}"
        else:
            assert ours[key] == pytest.approx(value, rel=rel), key


def same_outputs(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Same keys and values, NaN equal to NaN (for the shared-grid checks)."""
    return set(a) == set(b) and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )
