"""Hypothesis strategies for CGM series."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from tests.unit.domain.metrics.series import DAY0_MS, MINUTE_MS, Series


@st.composite
def cgm_series(draw: st.DrawFn, max_points: int = 600) -> Series:
    """A 5-minute series with random jitter, dropped readings and glucose 40-400 mg/dL."""
    n = draw(st.integers(min_value=0, max_value=max_points))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    start = DAY0_MS + int(rng.integers(0, 1440)) * MINUTE_MS
    t = start + np.arange(n, dtype=np.int64) * 5 * MINUTE_MS
    t += rng.integers(-60, 61, n) * 1000
    keep = rng.random(n) > draw(st.sampled_from([0.0, 0.05, 0.3]))
    walk = 150 + np.cumsum(rng.normal(0, draw(st.sampled_from([2.0, 8.0, 20.0])), n))
    g = np.clip(walk, 40, 400)
    return Series(times_ms=t[keep], glucose=g[keep])


def shuffled(series: Series, seed: int) -> Series:
    """The same readings in another order."""
    order = np.random.default_rng(seed).permutation(series.times_ms.size)
    return Series(series.times_ms[order], series.glucose[order])
