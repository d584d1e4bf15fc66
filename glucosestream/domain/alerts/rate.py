"""Rate of change of glucose and a linear projection."""

from __future__ import annotations

from collections.abc import Sequence


def rate_of_change(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of glucose over time, mg/dL per minute.

    ``points`` are ``(measured_at_ms, glucose_mg_dl)``; ``None`` with fewer than two distinct
    times. Formula: slope = Σ(tᵢ - t̄)(gᵢ - ḡ) / Σ(tᵢ - t̄)², t in minutes. A least-squares fit
    over ~15 minutes rather than the last two readings damps sensor noise, as CGM trend arrows do.
    """
    if len(points) < 2:
        return None
    minutes = [t / 60_000 for t, _ in points]
    values = [g for _, g in points]
    mean_t = sum(minutes) / len(minutes)
    mean_g = sum(values) / len(values)
    spread = sum((t - mean_t) ** 2 for t in minutes)
    if spread == 0:
        return None
    return sum((t - mean_t) * (g - mean_g) for t, g in zip(minutes, values, strict=True)) / spread


def project(glucose_mg_dl: float, rate_mg_dl_per_min: float, horizon_min: float) -> float:
    """Linear projection: g + rate × horizon (mg/dL)."""
    return glucose_mg_dl + rate_mg_dl_per_min * horizon_min
