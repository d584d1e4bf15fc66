"""The CGM sensor: what a device reports from interstitial glucose, artefacts included.

Per device family (:class:`~stream.simulator.cohort.DeviceKind`): a fixed reading cadence
(5 min Dexcom-like, 15 min Libre-like historic), sensor sessions of 10 or 14 days separated by
a changeover and starting with a warm-up (2 h / 1 h) whose readings carry status ``WARMUP``.

The error model follows the structure of Facchinetti et al. 2014 (doi:10.1109/TBME.2013.2284023):
a calibration error drifting within a session (gain and offset polynomial in the session's age,
drawn per session) plus coloured AR(1) noise plus white noise, larger during warm-up. On top:
signal-loss gaps (no readings, 10 min to 4 h, Poisson in time), compression lows while asleep
(a false drop of 30-65 %, see :mod:`~stream.simulator.lifestyle`), values below 40 / above 400
reported as 40 ``BELOW_SENSOR_RANGE`` / 400 ``ABOVE_SENSOR_RANGE``, and a trend arrow from the
sensor's recent rate (Dexcom thresholds 1, 2, 3 mg/dL/min; ``NOT_COMPUTABLE`` when a reading it
needs is missing or in warm-up). Timestamps jitter by a few seconds around the cadence.

Each reading also carries its ground truth, which the contract does not: plasma and interstitial
glucose, the :class:`Artefact` that distorts it (or none), and whether it is the first reading
after a signal-loss gap. A gap distorts no value, it removes readings, so it is a flag of the
reading after it rather than an artefact label.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from glucosestream.domain.reading import (
    SENSOR_MAX_MG_DL,
    SENSOR_MIN_MG_DL,
    ReadingStatus,
    Trend,
)
from stream.simulator.cohort import SENSOR_STREAM, VirtualPatient, patient_streams
from stream.simulator.config import CohortConfig
from stream.simulator.physiology import Traces
from stream.simulator.timezones import ZoneClock


class Artefact(StrEnum):
    """What distorts a reading, the first that applies in this order (none: within 20/20)."""

    COMPRESSION_LOW = "compression_low"
    """Lying on the sensor pulls the reading down by more than :data:`COMPRESSION_FLAG` (5 %)."""
    WARMUP = "warmup"
    """Read during the session's warm-up, with up to three times the noise (status ``WARMUP``)."""
    SENSOR_ERROR = "sensor_error"
    """Calibration drift plus noise outside the 20/20 agreement band around interstitial glucose:
    off by more than 20 mg/dL below 100 mg/dL, more than 20 % from 100 mg/dL (the "%20/20"
    accuracy criterion of CGM studies, e.g. the FDA iCGM special controls, 21 CFR 862.1355)."""
    NONE = "none"


STATUSES: tuple[ReadingStatus, ...] = tuple(ReadingStatus)
ARTEFACTS: tuple[Artefact, ...] = tuple(Artefact)
TRENDS: tuple[Trend, ...] = tuple(Trend)
_OK = STATUSES.index(ReadingStatus.OK)
_BELOW = STATUSES.index(ReadingStatus.BELOW_SENSOR_RANGE)
_ABOVE = STATUSES.index(ReadingStatus.ABOVE_SENSOR_RANGE)
_WARMUP = STATUSES.index(ReadingStatus.WARMUP)
_NOT_COMPUTABLE = TRENDS.index(Trend.NOT_COMPUTABLE)
_COMPRESSION_LOW = ARTEFACTS.index(Artefact.COMPRESSION_LOW)
_WARMUP_ARTEFACT = ARTEFACTS.index(Artefact.WARMUP)
_SENSOR_ERROR = ARTEFACTS.index(Artefact.SENSOR_ERROR)
_NO_ARTEFACT = ARTEFACTS.index(Artefact.NONE)
# Rising arrows by rate band: [1, 2) 45°, [2, 3] single, > 3 double.
_UP = [TRENDS.index(t) for t in (Trend.FLAT, Trend.FORTY_FIVE_UP, Trend.SINGLE_UP, Trend.DOUBLE_UP)]
_DOWN = [
    TRENDS.index(t)
    for t in (Trend.FLAT, Trend.FORTY_FIVE_DOWN, Trend.SINGLE_DOWN, Trend.DOUBLE_DOWN)
]

JITTER_SD_MS = 2_000
JITTER_MAX_MS = 6_000
AR_COEFFICIENT_PER_5_MIN = 0.8
AR_SD_MG_DL = 4.0
WHITE_SD_MG_DL = 1.0
WHITE_RELATIVE_SD = 0.01
MAX_GAIN = 0.1
MAX_BIAS_MG_DL = 8.0
GAP_MIN_MINUTES = 10.0
GAP_MAX_MINUTES = 240.0
COMPRESSION_FLAG = 0.05
"""Compression depth above which a reading counts as a compression artefact (diagnostics)."""
AGREEMENT_MG_DL = 20.0
AGREEMENT_RELATIVE = 0.2
"""The 20/20 band: a reading within max(20 mg/dL, 20 %) of interstitial glucose agrees with it."""


def trend_codes(rate: NDArray[np.float64]) -> NDArray[np.int64]:
    """Trend index (into :data:`TRENDS`) of each rate in mg/dL/min (NaN: not computable)."""
    magnitude = np.abs(rate)
    band = (magnitude >= 1.0).astype(np.int64) + (magnitude >= 2.0) + (magnitude > 3.0)
    codes = np.where(rate >= 0, np.asarray(_UP)[band], np.asarray(_DOWN)[band])
    return np.where(np.isnan(rate), _NOT_COMPUTABLE, codes)


@dataclass
class ReadingBatch:
    """Readings of one chunk, columnar, in measurement order (then patient column).

    ``status``, ``trend`` and ``artefact`` index :data:`STATUSES`, :data:`TRENDS` and
    :data:`ARTEFACTS`. The last five columns are ground truth the contract does not carry: plasma
    glucose, interstitial glucose, whether a compression artefact distorts the reading, the
    artefact that distorts it (:class:`Artefact`), and whether it is the first reading after a
    signal-loss gap.
    """

    patient: NDArray[np.int64]
    measured_at: NDArray[np.int64]
    utc_offset: NDArray[np.int64]
    glucose: NDArray[np.int64]
    status: NDArray[np.int64]
    trend: NDArray[np.int64]
    session: NDArray[np.int64]
    plasma: NDArray[np.float64]
    interstitial: NDArray[np.float64]
    compressed: NDArray[np.bool_]
    artefact: NDArray[np.int64]
    after_signal_loss: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.measured_at)

    def take(self, index: NDArray[np.int64]) -> ReadingBatch:
        """The rows at ``index``, in that order."""
        return ReadingBatch(**{name: getattr(self, name)[index] for name in _BATCH_FIELDS})

    @classmethod
    def concat(cls, parts: list[ReadingBatch]) -> ReadingBatch:
        return cls(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _BATCH_FIELDS}
        )


_BATCH_FIELDS = tuple(ReadingBatch.__dataclass_fields__)


class _Group:
    """Patients sharing a cadence; their readings form a ``(K, n)`` grid per chunk."""

    def __init__(self, cols: NDArray[np.int64], cadence: int) -> None:
        self.cols = cols
        self.cadence = cadence
        self.phase = np.zeros(cols.size)
        self.ar = np.zeros(cols.size)
        # The last two readings (value, usable for a trend) carried across chunks.
        self.history = np.full((2, cols.size), np.nan)


class SensorLayer:
    """All devices of the cohort.

    Parameters
    ----------
    config
        The cohort config.
    patients
        The cohort.
    origin_ms
        UTC milliseconds of simulation minute 0.
    first_minute
        The simulation minute readings start at (the end of the burn-in).
    clocks
        Zone clock of each patient's zone, by zone name.
    """

    def __init__(
        self,
        config: CohortConfig,
        patients: list[VirtualPatient],
        origin_ms: int,
        first_minute: int,
        clocks: dict[str, ZoneClock],
    ) -> None:
        n = len(patients)
        self._patients = patients
        self._seed = config.seed
        self._origin_ms = origin_ms
        self._first = first_minute
        self._clocks = clocks
        self._noise = config.sensor.noise_scale
        self._gap_rate = config.sensor.signal_loss_per_day / 1440.0
        self._rngs = [patient_streams(config.seed, p.index)[SENSOR_STREAM] for p in patients]
        self._session_length = np.array([p.device.session_days * 1440.0 for p in patients])
        self._warmup = np.array([float(p.device.warmup_minutes) for p in patients])
        self._period = np.empty(n)
        self._session_zero = np.empty(n)
        phase = np.empty(n)
        for col, (patient, rng) in enumerate(zip(patients, self._rngs, strict=True)):
            cadence = patient.cadence_minutes
            changeover = rng.uniform(10.0, 90.0)
            self._period[col] = self._session_length[col] + changeover
            # Sessions are staggered: the sensor worn at the start has been in for a while.
            self._session_zero[col] = first_minute - rng.uniform(0.0, self._period[col])
            phase[col] = rng.uniform(0.05, cadence - 0.05)
        self._gap_until = np.full(n, -np.inf)
        self._gaps: list[list[tuple[float, float]]] = [[] for _ in range(n)]
        self._calibration: dict[tuple[int, int], NDArray[np.float64]] = {}
        self._groups: list[_Group] = []
        cadences = np.array([p.cadence_minutes for p in patients])
        for cadence in sorted(set(cadences.tolist())):
            group = _Group(np.flatnonzero(cadences == cadence), cadence)
            group.phase = phase[group.cols]
            self._groups.append(group)

    def session_of(self, col: int, minute: float) -> int:
        """Index of the sensor session of patient column ``col`` at simulation ``minute``."""
        return int(np.floor((minute - self._session_zero[col]) / self._period[col]))

    def _calibration_of(self, col: int, session: int) -> NDArray[np.float64]:
        key = (col, session)
        found = self._calibration.get(key)
        if found is None:
            # Drawn from (seed, patient, session), so it does not depend on draw order; the
            # burn-in may see the session before the first (-1), hence the shift.
            entropy = [self._seed, self._patients[col].index, session + 1, 0xC6]
            rng = np.random.default_rng(entropy)
            sd = np.array([0.025, 0.003, 0.0002, 2.0, 0.2])
            found = rng.standard_normal(5) * sd
            self._calibration[key] = found
            # Sessions are visited in order, so older ones of this patient are done with.
            self._calibration.pop((col, session - 2), None)
        return found

    def sample(self, start: int, traces: Traces, end: int) -> ReadingBatch:
        """Readings measured in simulation minutes ``[start, end)`` from the chunk's traces."""
        parts = [self._sample_group(group, start, traces, end) for group in self._groups]
        batch = ReadingBatch.concat(parts)
        order = np.lexsort((batch.patient, batch.measured_at))
        return batch.take(order)

    def _draw_gaps(
        self, col: int, rng: np.random.Generator, start: int, end: int, cadence: int
    ) -> None:
        # A gap is kept while it may hold the reading before one of this chunk's readings.
        gaps = [gap for gap in self._gaps[col] if gap[1] > start - cadence]
        count = rng.poisson(self._gap_rate * (end - start))
        if count:
            begin = rng.uniform(start, end, count)
            length = np.exp(rng.uniform(np.log(GAP_MIN_MINUTES), np.log(GAP_MAX_MINUTES), count))
            gaps.extend(zip(begin.tolist(), (begin + length).tolist(), strict=True))
        self._gaps[col] = gaps

    def _sample_group(self, group: _Group, start: int, traces: Traces, end: int) -> ReadingBatch:
        cadence = group.cadence
        steps = traces.glucose.shape[0] - 1
        k = steps // cadence
        cols = group.cols
        times = start + group.phase[None, :] + cadence * np.arange(k)[:, None]
        offset = times - start
        row = np.floor(offset).astype(np.int64)
        weight = offset - row
        col_index = cols[None, :]

        def at(trace: NDArray[np.float64]) -> NDArray[np.float64]:
            value: NDArray[np.float64] = (
                trace[row, col_index] * (1.0 - weight) + trace[row + 1, col_index] * weight
            )
            return value

        plasma = at(traces.glucose)
        interstitial = at(traces.interstitial)
        depth = at(traces.compression)

        since_zero = times - self._session_zero[cols]
        session = np.floor(since_zero / self._period[cols]).astype(np.int64)
        age = since_zero - session * self._period[cols]
        in_session = age < self._session_length[cols]
        warming = age < self._warmup[cols]
        age_days = age / 1440.0

        white = np.empty((k, cols.size))
        innovation = np.empty((k, cols.size))
        jitter = np.empty((k, cols.size))
        missing = np.zeros((k, cols.size), dtype=bool)
        missed_before = np.zeros((k, cols.size), dtype=bool)
        gain = np.empty((k, cols.size))
        bias = np.empty((k, cols.size))
        for j, col in enumerate(cols.tolist()):
            rng = self._rngs[col]
            draws = rng.standard_normal((3, k))
            white[:, j], innovation[:, j], jitter[:, j] = draws
            self._draw_gaps(col, rng, start, end, cadence)
            before = times[:, j] - cadence
            for lo, hi in self._gaps[col]:
                missing[:, j] |= (times[:, j] >= lo) & (times[:, j] < hi)
                missed_before[:, j] |= (before >= lo) & (before < hi)
            sessions = session[:, j]
            for s in np.unique(sessions).tolist():
                g0, g1, g2, o0, o1 = self._calibration_of(col, s)
                rows = sessions == s
                d = age_days[rows, j]
                gain[rows, j] = np.clip(g0 + g1 * d + g2 * d * d, -MAX_GAIN, MAX_GAIN)
                bias[rows, j] = np.clip(o0 + o1 * d, -MAX_BIAS_MG_DL, MAX_BIAS_MG_DL)

        phi = AR_COEFFICIENT_PER_5_MIN ** (cadence / 5.0)
        innovation *= AR_SD_MG_DL * np.sqrt(1.0 - phi * phi)
        coloured = np.empty((k, cols.size))
        ar = group.ar
        for i in range(k):
            ar = phi * ar + innovation[i]
            coloured[i] = ar
        group.ar = ar
        warm_boost = 1.0 + 2.0 * np.clip(1.0 - age / self._warmup[cols], 0.0, 1.0)
        error = coloured + white * (WHITE_SD_MG_DL + WHITE_RELATIVE_SD * interstitial)
        error = error * warm_boost
        sensed = interstitial * (1.0 + self._noise * gain) + self._noise * (bias + error)
        sensed *= 1.0 - depth
        sensed = np.maximum(sensed, 1.0)

        measured_ok = in_session & ~missing & (times < end)
        # Readings before the first minute are not reported but still give the first trends.
        present = measured_ok & (times >= self._first)
        usable = measured_ok & ~warming
        trend = self._trend(group, sensed, usable)

        value = np.rint(sensed).astype(np.int64)
        status = np.full(value.shape, _OK)
        status[value < SENSOR_MIN_MG_DL] = _BELOW
        status[value > SENSOR_MAX_MG_DL] = _ABOVE
        value = np.clip(value, SENSOR_MIN_MG_DL, SENSOR_MAX_MG_DL)
        status[warming] = _WARMUP
        trend[warming] = _NOT_COMPUTABLE

        compressed = depth > COMPRESSION_FLAG
        agreement = np.maximum(AGREEMENT_MG_DL, AGREEMENT_RELATIVE * interstitial)
        artefact = np.full(value.shape, _NO_ARTEFACT)
        artefact[np.abs(value - interstitial) > agreement] = _SENSOR_ERROR
        artefact[warming] = _WARMUP_ARTEFACT
        artefact[compressed] = _COMPRESSION_LOW

        jitter_ms = np.clip(np.rint(jitter * JITTER_SD_MS), -JITTER_MAX_MS, JITTER_MAX_MS)
        measured = self._origin_ms + np.rint(times * 60_000.0).astype(np.int64)
        measured += jitter_ms.astype(np.int64)
        utc_minutes = np.floor_divide(measured, 60_000)
        offsets = np.empty_like(utc_minutes)
        for j, col in enumerate(cols.tolist()):
            offsets[:, j] = self._clocks[self._patients[col].timezone].offset_at(utc_minutes[:, j])

        patient = np.broadcast_to(col_index, (k, cols.size))
        keep = present
        return ReadingBatch(
            patient=patient[keep],
            measured_at=measured[keep],
            utc_offset=offsets[keep],
            glucose=value[keep],
            status=status[keep],
            trend=trend[keep],
            session=session[keep],
            plasma=plasma[keep],
            interstitial=interstitial[keep],
            compressed=compressed[keep],
            artefact=artefact[keep],
            after_signal_loss=(missed_before & ~missing)[keep],
        )

    def _trend(
        self, group: _Group, sensed: NDArray[np.float64], usable: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        """Trend index per reading from the sensor's rate over the last 10 (or 15) minutes."""
        values = np.where(usable, sensed, np.nan)
        padded = np.concatenate([group.history, values])
        group.history = padded[-2:]
        if group.cadence <= 5:
            # Least-squares slope of three equally spaced points is their end-point difference.
            rate = (padded[2:] - padded[:-2]) / (2.0 * group.cadence)
            # A missing middle reading also means a gap: not computable.
            rate = np.where(np.isnan(padded[1:-1]), np.nan, rate)
        else:
            rate = (padded[2:] - padded[1:-1]) / group.cadence
        return trend_codes(rate)
