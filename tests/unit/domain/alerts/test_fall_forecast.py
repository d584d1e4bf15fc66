"""The fall forecast behind URGENT_LOW_SOON: the cases of issue 17, and each rule by hand."""

from __future__ import annotations

import pytest

from glucosestream.domain.alerts import AlertConfig, AlertKind
from glucosestream.domain.alerts.fall_forecast import buckets, forecast, step_artefact
from glucosestream.domain.alerts.replay import replay
from tests.unit.domain.alerts.scenario import MIN, T0, series

CONFIG = AlertConfig()
SOON = AlertKind.URGENT_LOW_SOON


def points(pairs: list[tuple[float, int]]) -> list[tuple[int, int]]:
    """(minute, mg/dL) → (epoch ms, mg/dL)."""
    return [(T0 + round(m * MIN), g) for m, g in pairs]


def pages(pairs: list[tuple[float, int]]) -> list[tuple[AlertKind, int]]:
    """(kind, glucose) of every page from readings arriving 20 s after they were measured."""
    readings = series([g for _, g in pairs])
    readings = [
        r.__class__(T0 + round(m * MIN), g, T0 + round(m * MIN) + 20_000, r.device_id)
        for r, (m, g) in zip(readings, pairs, strict=True)
    ]
    return [(a.kind, a.glucose_mg_dl) for a in replay([("p", r) for r in readings], CONFIG)]


# ---------------------------------------------------------------------- the three cases


def test_a_genuine_fall_pages_urgent_low_soon_at_90() -> None:
    fall = [(0, 122), (5, 121), (10, 120), (15, 110), (20, 100), (25, 90)]
    assert pages(fall) == [(SOON, 90)]


def test_a_drop_and_plateau_pages_nothing() -> None:
    plateau = [(0, 201), (5, 200), (10, 150), (15, 100), (20, 100), (25, 102)]
    assert pages(plateau) == []


def test_one_bad_reading_pages_nothing() -> None:
    spike = [(0, 113), (5, 112), (10, 110), (15, 108), (20, 70), (25, 107)]
    assert pages(spike) == []


# ------------------------------------------------------------------------------ rule by rule


def test_the_genuine_fall_by_hand() -> None:
    # Window of the reading at 25: 120, 110, 100, 90 at 10..25: slope -2 mg/dL/min exactly;
    # projected 90 - 2 x 20 = 50 < 55.
    window = points([(0, 122), (5, 121), (10, 120), (15, 110), (20, 100), (25, 90)])
    found = forecast(window, 5 * MIN, CONFIG)
    assert found is not None
    assert found.rate_mg_dl_per_min == pytest.approx(-2.0)
    assert found.projected_mg_dl == pytest.approx(50.0)
    assert found.predicts_low


def test_readings_closer_than_four_minutes_are_one_bucket() -> None:
    # A chattering device: every reading three times, 20 s apart.
    merged = buckets(points([(0, 100), (0.33, 101), (0.67, 102), (5, 95)]), CONFIG.merge_within_ms)
    assert merged == [(pytest.approx(T0 + 0.3333 * MIN, abs=100), 101.0), (T0 + 5 * MIN, 95.0)]


def test_buckets_are_the_exact_means_of_their_members_whatever_the_input_order() -> None:
    # Bursts, exact duplicates, a reading exactly 4 minutes after its bucket's first (a new
    # bucket), and the input shuffled: each bucket is the mean of the readings closer than
    # 4 minutes to its first one, computed here from the members.
    window = points([(0, 100), (1, 103), (3.99, 99), (4, 97), (4, 97), (9, 90), (13.5, 81)])
    shuffled = [window[i] for i in (3, 0, 6, 2, 5, 1, 4)]
    members = [window[0:3], window[3:5], window[5:6], window[6:7]]
    expected = [
        (sum(t for t, _ in group) / len(group), sum(g for _, g in group) / len(group))
        for group in members
    ]
    assert buckets(shuffled, CONFIG.merge_within_ms) == expected
    assert buckets([], CONFIG.merge_within_ms) == []


def test_duplicated_readings_do_not_steepen_the_slope() -> None:
    # 3 copies of each 5-minute reading with +-3 mg/dL jitter: the same slope as the clean trace.
    clean = [(0, 150), (5, 146), (10, 142), (15, 138)]
    noisy = [(m + k / 3, g + (-3, 3, 0)[k]) for m, g in clean for k in range(3)]
    assert forecast(points(noisy), 5 * MIN, CONFIG) is not None
    clean_rate = forecast(points(clean), 5 * MIN, CONFIG)
    noisy_rate = forecast(points(noisy), 5 * MIN, CONFIG)
    assert clean_rate is not None
    assert noisy_rate is not None
    assert noisy_rate.rate_mg_dl_per_min == pytest.approx(clean_rate.rate_mg_dl_per_min, abs=0.2)


@pytest.mark.parametrize(
    ("window", "why"),
    [
        ([(5, 150), (15, 90)], "two readings are a line, not a trend"),
        ([(0, 150), (0.5, 140), (1, 120), (1.5, 100)], "one bucket"),
        ([(0, 150), (5, 140), (7, 130)], "spanning 7 minutes, less than 10"),
        ([(0, 150), (15, 110), (20, 100)], "two readings missing in a row at a 5-minute cadence"),
    ],
)
def test_thin_windows_give_no_forecast(window: list[tuple[float, int]], why: str) -> None:
    assert forecast(points(window), 5 * MIN, CONFIG) is None, why


def test_one_missing_reading_is_tolerated() -> None:
    assert forecast(points([(0, 150), (5, 140), (15, 120)]), 5 * MIN, CONFIG) is not None


def test_a_fifteen_minute_cadence_never_forecasts() -> None:
    libre = points([(0, 150), (15, 100)])
    assert forecast(libre, 15 * MIN, CONFIG) is None


@pytest.mark.parametrize(
    ("window", "artefact"),
    [
        ([(0, 201), (5, 200), (10, 150), (15, 100)], True),  # drop over two readings, flat before
        ([(0, 200), (5, 150), (10, 100), (15, 100)], True),  # drop then plateau
        ([(0, 110), (5, 108), (10, 70), (15, 107)], True),  # down and back up
        ([(0, 120), (5, 119), (10, 118), (15, 85)], True),  # sudden drop from a steady trace
        ([(0, 176), (5, 183), (10, 118), (15, 104)], True),  # compression: drop, then settling
        ([(0, 183), (5, 118), (10, 104), (15, 106)], True),  # the same, one reading later
        ([(0, 126), (5, 125), (10, 94), (15, 82)], True),  # drop, then -2.4 mg/dL/min: not steep
        ([(0, 233), (5, 198), (10, 181), (15, 150)], False),  # steep throughout: a real fall
        ([(0, 160), (5, 125), (10, 90), (15, 55)], False),  # every step fast, one direction
        ([(0, 122), (5, 121), (10, 120), (15, 110)], False),  # no fast step at all
    ],
)
def test_step_artefacts(window: list[tuple[float, int]], artefact: bool) -> None:
    merged = buckets(points(window), CONFIG.merge_within_ms)
    assert step_artefact([(t, float(g)) for t, g in merged], CONFIG) is artefact


def test_a_compression_low_that_settles_pages_nothing() -> None:
    # A simulated compression low (true glucose ~ 185 throughout): a 13 mg/dL/min drop, then the
    # sensor settles 2.8 mg/dL/min lower before it flattens. Paged URGENT_LOW_SOON at 104 before.
    compression = [(0, 177), (5, 175), (10, 176), (15, 176), (20, 183), (25, 118), (30, 104)]
    compression += [(35, 106), (40, 106), (45, 103), (50, 105), (55, 168), (60, 178)]
    assert pages(compression) == []


def test_a_steady_fall_with_one_fast_step_still_pages() -> None:
    # Falling 3 mg/dL/min, one step at 7: steep at every step, so believed.
    fall = [(0, 150), (5, 135), (10, 120), (15, 105), (20, 70), (25, 60)]
    assert pages(fall) == [(SOON, 105)]


def test_the_slope_is_capped_at_four_mg_dl_per_minute() -> None:
    # Steep throughout (-5.3 mg/dL/min measured): forecast with -4, so 150 - 80 = 70: no low.
    steep = forecast(points([(0, 233), (5, 198), (10, 181), (15, 150)]), 5 * MIN, CONFIG)
    assert steep is not None
    assert steep.rate_mg_dl_per_min == -4.0
    assert steep.projected_mg_dl == 70.0
    assert not steep.predicts_low


def test_the_projection_shown_is_never_below_forty() -> None:
    found = forecast(points([(0, 160), (5, 125), (10, 90), (15, 56)]), 5 * MIN, CONFIG)
    assert found is not None
    assert found.predicts_low  # 56 - 80 = -24 before the floor
    assert found.projected_mg_dl == 40.0


def test_no_urgent_low_soon_above_135() -> None:
    # Falling 5 mg/dL/min, used as 4: at 135 the projection is 135 - 80 = 55, not below 55.
    fall = [(m, 235 - 5 * m) for m in range(0, 25, 5)]  # 235 ... 135 at minute 20
    assert pages(fall) == []
    assert pages([*fall, (25, 130)]) == [(SOON, 130)]


def test_a_stale_reading_forecasts_but_does_not_page() -> None:
    fall = [(0, 122), (5, 121), (10, 120), (15, 110), (20, 100), (25, 90)]
    readings = series([g for _, g in fall])
    late = [r.__class__(r.measured_at, r.glucose_mg_dl, r.measured_at + 11 * MIN) for r in readings]
    assert [a.kind for a in replay([("p", r) for r in late], CONFIG)] == []
