"""The sensor layer: range and status, warm-up, sessions, cadence, gaps, rates, trends, DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glucosestream.domain.reading import ReadingStatus, Trend
from stream.simulator import (
    CohortConfig,
    Phenotype,
    ReadingBatch,
    SensorArtefacts,
    build_cohort,
    simulate_readings,
)
from stream.simulator.cohort import VirtualPatient
from stream.simulator.sensor import STATUSES, TRENDS, trend_codes

OK = STATUSES.index(ReadingStatus.OK)
WARMUP = STATUSES.index(ReadingStatus.WARMUP)
BELOW = STATUSES.index(ReadingStatus.BELOW_SENSOR_RANGE)
ABOVE = STATUSES.index(ReadingStatus.ABOVE_SENSOR_RANGE)
Cohorts = dict[Phenotype, tuple[list[VirtualPatient], ReadingBatch]]


def _run(config: CohortConfig) -> tuple[list[VirtualPatient], ReadingBatch]:
    cohort = build_cohort(config)
    return cohort, ReadingBatch.concat(list(simulate_readings(config, cohort)))


def test_values_in_sensor_range_with_consistent_status(phenotype_cohorts: Cohorts) -> None:
    batch = ReadingBatch.concat([b for _, b in phenotype_cohorts.values()])
    assert batch.glucose.min() >= 40
    assert batch.glucose.max() <= 400
    assert np.all(batch.glucose[batch.status == BELOW] == 40)
    assert np.all(batch.glucose[batch.status == ABOVE] == 400)
    # Flags appear where the sensor really went out of range (plasma far out of range too).
    assert np.all(batch.plasma[batch.status == ABOVE] > 300)
    assert (batch.status == ABOVE).any()
    assert (batch.status == BELOW).any()
    assert set(np.unique(batch.status)) <= {OK, WARMUP, BELOW, ABOVE}


def test_sessions_start_with_warmup_and_last_their_sensor_life() -> None:
    cohort, batch = _run(CohortConfig(patients=6, days=31, seed=4, libre_share=0.5))
    for patient in cohort:
        mine = batch.patient == patient.index
        sessions = batch.session[mine]
        times = batch.measured_at[mine]
        status = batch.status[mine]
        firsts = [times[sessions == s].min() for s in np.unique(sessions)]
        assert len(firsts) >= 3
        life_ms = patient.device.session_days * 86_400_000
        cadence_ms = patient.cadence_minutes * 60_000
        for a, b in itertools.pairwise(firsts[1:]):
            # Consecutive sensors start one sensor life plus a 10-90 min changeover apart.
            assert life_ms + 10 * 60_000 - cadence_ms <= b - a <= life_ms + 90 * 60_000 + cadence_ms
        warmup_ms = patient.device.warmup_minutes * 60_000
        for s, first in zip(np.unique(sessions)[1:], firsts[1:], strict=True):
            age = times[sessions == s] - first
            warm = status[sessions == s] == WARMUP
            assert np.all(warm[age < warmup_ms - cadence_ms])
            assert not np.any(warm[age >= warmup_ms])
    ids = {(p, s) for p, s in zip(batch.patient.tolist(), batch.session.tolist(), strict=True)}
    assert len(ids) >= 3 * len(cohort)


def _consecutive(batch: ReadingBatch, patient: VirtualPatient) -> dict[str, np.ndarray]:
    mine = np.flatnonzero(batch.patient == patient.index)
    mine = mine[np.argsort(batch.measured_at[mine], kind="stable")]
    a, b = mine[:-1], mine[1:]
    return {
        "dt_ms": batch.measured_at[b] - batch.measured_at[a],
        "same_session": batch.session[a] == batch.session[b],
        "dg": (batch.glucose[b] - batch.glucose[a]).astype(np.float64),
        "both_ok": (batch.status[a] == OK) & (batch.status[b] == OK),
        "artefact": batch.compressed[a] | batch.compressed[b],
    }


def test_cadence_is_5_or_15_minutes_with_jitter() -> None:
    config = CohortConfig(
        patients=8, days=3, seed=9, sensor=SensorArtefacts(signal_loss_per_day=0.0)
    )
    cohort, batch = _run(config)
    for patient in cohort:
        pairs = _consecutive(batch, patient)
        dt = pairs["dt_ms"][pairs["same_session"]]
        cadence_ms = patient.cadence_minutes * 60_000
        assert np.all(np.abs(dt - cadence_ms) <= 12_000)
        assert np.unique(dt).size > 10  # the clock jitters


@pytest.mark.parametrize("rate", [0.0, 2.0])
def test_signal_loss_gaps_occur_at_the_configured_rate(rate: float) -> None:
    config = CohortConfig(
        patients=20,
        days=7,
        seed=11,
        libre_share=0.0,
        sensor=SensorArtefacts(signal_loss_per_day=rate, compression_lows_per_night=0.0),
    )
    cohort, batch = _run(config)
    gaps = 0
    for patient in cohort:
        pairs = _consecutive(batch, patient)
        gaps += int(np.sum(pairs["same_session"] & (pairs["dt_ms"] > 7.5 * 60_000)))
    expected = rate * config.days * config.patients
    # Overlapping gaps merge and a few fall into sensor changeovers, so slightly fewer are seen.
    assert 0.75 * expected <= gaps <= 1.1 * expected + 1e-9


def test_rate_of_change_is_physiological(phenotype_cohorts: Cohorts) -> None:
    within, total = 0, 0
    for cohort, batch in phenotype_cohorts.values():
        for patient in cohort:
            p = _consecutive(batch, patient)
            no_gap = p["dt_ms"] <= (patient.cadence_minutes * 60_000 + 15_000)
            use = p["same_session"] & no_gap & p["both_ok"] & ~p["artefact"]
            rate = p["dg"][use] / (p["dt_ms"][use] / 60_000)
            within += int(np.sum(np.abs(rate) <= 4.0))
            total += int(use.sum())
    assert total > 100_000
    assert within / total >= 0.99


def test_compression_lows_are_false_drops_at_night(phenotype_cohorts: Cohorts) -> None:
    _, batch = phenotype_cohorts[Phenotype.NO_DIABETES]
    compressed = batch.compressed & (batch.status == OK)
    assert compressed.any()
    # The sensor reads well below the interstitial glucose it should report.
    assert np.median(batch.glucose[compressed] / batch.interstitial[compressed]) < 0.85
    local_hour = (
        (batch.measured_at[compressed] // 60_000 + batch.utc_offset[compressed]) % 1440
    ) // 60
    assert np.all((local_hour >= 22) | (local_hour < 9))


@given(st.floats(min_value=-10.0, max_value=10.0, allow_nan=False))
def test_trend_follows_dexcom_thresholds(rate: float) -> None:
    trend = TRENDS[int(trend_codes(np.array([rate]))[0])]
    magnitude = abs(rate)
    if magnitude < 1.0:
        assert trend is Trend.FLAT
    elif magnitude < 2.0:
        assert trend in (Trend.FORTY_FIVE_UP, Trend.FORTY_FIVE_DOWN)
    elif magnitude <= 3.0:
        assert trend in (Trend.SINGLE_UP, Trend.SINGLE_DOWN)
    else:
        assert trend in (Trend.DOUBLE_UP, Trend.DOUBLE_DOWN)
    if magnitude >= 1.0:
        assert trend.endswith("UP") == (rate > 0)


def test_trend_not_computable_after_gaps_and_in_warmup(phenotype_cohorts: Cohorts) -> None:
    not_computable = TRENDS.index(Trend.NOT_COMPUTABLE)
    cohort, batch = phenotype_cohorts[Phenotype.TYPE_1]
    assert np.all(batch.trend[batch.status == WARMUP] == not_computable)
    for patient in cohort:
        mine = np.flatnonzero(batch.patient == patient.index)
        dt = np.diff(batch.measured_at[mine])
        after_gap = mine[1:][dt > 1.5 * patient.cadence_minutes * 60_000]
        assert np.all(batch.trend[after_gap] == not_computable)
    usable = batch.status == OK
    assert np.mean(batch.trend[usable] != not_computable) > 0.9


def test_utc_offset_follows_london_dst() -> None:
    start = int(datetime(2026, 3, 28, tzinfo=UTC).timestamp() * 1000)
    config = CohortConfig(patients=2, days=2, seed=1, start_ms=start, timezones=("Europe/London",))
    _, batch = _run(config)
    london = ZoneInfo("Europe/London")

    def offset(ms: int) -> int:
        delta = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(london).utcoffset()
        assert delta is not None
        return int(delta.total_seconds()) // 60

    expected = [offset(ms) for ms in batch.measured_at.tolist()]
    assert batch.utc_offset.tolist() == expected
    assert set(expected) == {0, 60}
    change = int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp() * 1000)
    assert np.all(batch.utc_offset[batch.measured_at < change] == 0)
    assert np.all(batch.utc_offset[batch.measured_at >= change] == 60)
