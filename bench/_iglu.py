"""iglu-python's compute of the metrics GlucoseStream reports, timed: the baseline of the metrics
benchmarks (the same calls in each, so their ratios compare)."""

from __future__ import annotations

import contextlib
import io
import time
import warnings

import pandas as pd


def iglu_seconds(frame: pd.DataFrame, subjects: list[str]) -> float:
    import iglu_python as iglu

    iglu.utils.set_local_tz("UTC")
    frame = frame[frame["id"].isin(subjects)].sort_values(["id", "time"])
    started = time.perf_counter()
    # iglu-python prints warnings to stdout; they are not figures.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for function in (
            iglu.mean_glu,
            iglu.sd_glu,
            iglu.gmi,
            iglu.lbgi,
            iglu.hbgi,
            iglu.adrr,
            iglu.grade,
            iglu.gri,
            iglu.j_index,
            iglu.m_value,
        ):
            function(frame.copy())
        iglu.below_percent(frame.copy(), targets_below=[54, 70])
        iglu.in_range_percent(frame.copy(), target_ranges=[[70, 180], [70, 140]])
        iglu.above_percent(frame.copy(), targets_above=[180, 250])
        for subject in subjects:
            alone = frame[frame["id"] == subject]
            for function in (
                iglu.conga,
                iglu.modd,
                iglu.mag,
                iglu.mage,
                iglu.active_percent,
                iglu.episode_calculation,
            ):
                function(alone.copy())
    return time.perf_counter() - started
