"""Daily life of the cohort in local time: sleep, meals, boluses, exercise, sensor compression.

Each patient's day ``D`` (local calendar day, days since 1970-01-01 local) is planned once, in
order, from the patient's own life stream, then converted to simulation minutes through the
patient's zone, so habits stay on local wall-clock time across DST changes and time zones.

Type 1 self-management follows what real-world data show: boluses dosed on counted carbohydrate
with a per-meal counting error (Brazeau et al. 2013, doi:10.1016/j.diabres.2012.10.024), some
boluses missed or given late after the meal, and unbolused snacks.

Plans become *events*: impulses (carbohydrate in grams, insulin in units) and level changes
(asleep, exercise intensity, compression depth, day-to-day insulin sensitivity factor) that are
integrated into per-minute input arrays for each simulated chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from stream.simulator.cohort import LIFE_STREAM, VirtualPatient, parameter_column, patient_streams
from stream.simulator.config import CohortConfig, Phenotype
from stream.simulator.timezones import ZoneClock

DAY = 1440


class Channel(IntEnum):
    """Input channels of the physiology; the first three are impulses, the rest levels."""

    CARBS = 0
    BOLUS = 1
    ASLEEP = 2
    EXERCISE = 3
    COMPRESSION = 4
    SENSITIVITY = 5


IMPULSE_CHANNELS = (Channel.CARBS, Channel.BOLUS)
LEVEL_CHANNELS = (Channel.ASLEEP, Channel.EXERCISE, Channel.COMPRESSION, Channel.SENSITIVITY)
INITIAL_LEVELS = {
    # The first planned day starts with its wake-up, so everyone starts the day before asleep.
    Channel.ASLEEP: 1.0,
    Channel.EXERCISE: 0.0,
    Channel.COMPRESSION: 0.0,
    Channel.SENSITIVITY: 1.0,
}


@dataclass
class Events:
    """Planned events: minute (simulation minutes), patient column, channel and amount."""

    minute: NDArray[np.int64]
    patient: NDArray[np.int64]
    channel: NDArray[np.int64]
    amount: NDArray[np.float64]

    @classmethod
    def empty(cls) -> Events:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))

    def __len__(self) -> int:
        return len(self.minute)

    def select(self, rows: NDArray[np.bool_] | NDArray[np.int64]) -> Events:
        """The events at ``rows`` (a mask or indices)."""
        return Events(self.minute[rows], self.patient[rows], self.channel[rows], self.amount[rows])

    @classmethod
    def concat(cls, parts: list[Events]) -> Events:
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.minute for p in parts]),
            np.concatenate([p.patient for p in parts]),
            np.concatenate([p.channel for p in parts]),
            np.concatenate([p.amount for p in parts]),
        )


_UNIFORMS = 16
_NORMALS = 13


class LifePlanner:
    """Plans each patient's local days lazily, in order, and hands out events per chunk.

    Parameters
    ----------
    config
        The cohort config (seed, artefact rates).
    patients
        The cohort.
    origin_minute
        UTC minute since the epoch of simulation minute 0.
    clocks
        Zone clock of each patient's zone, by zone name.
    """

    def __init__(
        self,
        config: CohortConfig,
        patients: list[VirtualPatient],
        origin_minute: int,
        clocks: dict[str, ZoneClock],
    ) -> None:
        self._patients = patients
        self._origin = origin_minute
        self._clocks = clocks
        self._rngs = [patient_streams(config.seed, p.index)[LIFE_STREAM] for p in patients]
        self._compression_rate = config.sensor.compression_lows_per_night
        self._zone_members: dict[str, NDArray[np.int64]] = {}
        for column, patient in enumerate(patients):
            self._zone_members.setdefault(patient.timezone, np.empty(0, np.int64))
            self._zone_members[patient.timezone] = np.append(
                self._zone_members[patient.timezone], column
            )
        self._t1 = np.array([p.phenotype is Phenotype.TYPE_1 for p in patients])
        names = [
            "wake_minute",
            "bed_minute",
            "lunch_minute",
            "dinner_minute",
            "breakfast_skip_probability",
            "snack_probability",
            "breakfast_carbs_g",
            "lunch_carbs_g",
            "dinner_carbs_g",
            "snack_carbs_g",
            "exercise_probability",
            "daily_sensitivity_sd",
            "carb_ratio_g_per_u",
            "carb_count_error_sd",
            "missed_bolus_probability",
            "late_bolus_probability",
        ]
        self._p = {name: parameter_column(patients, name) for name in names}
        start_local = self.local_minute(np.zeros(len(patients), np.int64))
        self._next_day = start_local // DAY - 1
        self._sensitivity = np.ones(len(patients))
        self._pending = Events.empty()

    def local_minute(self, minute: NDArray[np.int64]) -> NDArray[np.int64]:
        """Local wall-clock minute since the local epoch of each patient at simulation minute."""
        utc = minute + self._origin
        out = np.empty_like(utc)
        for zone, members in self._zone_members.items():
            out[members] = utc[members] + self._clocks[zone].offset_at(utc[members])
        return out

    def local_minute_grid(self, minutes: NDArray[np.int64]) -> NDArray[np.int64]:
        """Local minute since the local epoch, shape ``(T, N)``, for a ``(T, 1)`` minute column."""
        utc = minutes + self._origin
        out = np.empty((minutes.shape[0], len(self._patients)), dtype=np.int64)
        for zone, members in self._zone_members.items():
            out[:, members] = utc + self._clocks[zone].offset_at(utc)
        return out

    def events_before(self, end_minute: int) -> Events:
        """Every not yet handed-out event before ``end_minute`` (simulation minutes)."""
        horizon = self.local_minute(np.full(len(self._patients), end_minute, np.int64))
        parts = [self._pending]
        while True:
            due = np.flatnonzero(self._next_day * DAY <= horizon)
            if due.size == 0:
                break
            parts.append(self._plan_day(due))
            self._next_day[due] += 1
        events = Events.concat(parts)
        early = events.minute < end_minute
        self._pending = events.select(~early)
        out = events.select(early)
        order = np.argsort(out.minute, kind="stable")
        return out.select(order)

    def _plan_day(self, cols: NDArray[np.int64]) -> Events:
        n = cols.size
        u = np.empty((n, _UNIFORMS))
        z = np.empty((n, _NORMALS))
        for row, col in enumerate(cols):
            rng = self._rngs[col]
            u[row] = rng.random(_UNIFORMS)
            z[row] = rng.standard_normal(_NORMALS)
        p = {name: values[cols] for name, values in self._p.items()}
        day = self._next_day[cols]
        weekend = ((day + 3) % 7 >= 5).astype(np.float64)  # 1970-01-01 was a Thursday
        wake = p["wake_minute"] + 30.0 * z[:, 0] + 50.0 * weekend
        bed = p["bed_minute"] + 30.0 * z[:, 1] + 30.0 * weekend
        breakfast = wake + 15.0 + 30.0 * u[:, 0]
        lunch = p["lunch_minute"] + 25.0 * z[:, 2] + 30.0 * weekend
        dinner = p["dinner_minute"] + 30.0 * z[:, 3]
        snack = np.where(u[:, 3] < 0.3, 21.0 * 60 + 30.0 * u[:, 4], 15.5 * 60 + 90.0 * u[:, 4])
        carbs_breakfast = np.where(
            u[:, 1] < p["breakfast_skip_probability"],
            0.0,
            p["breakfast_carbs_g"] * np.exp(0.25 * z[:, 4]),
        )
        carbs_lunch = p["lunch_carbs_g"] * np.exp(0.3 * z[:, 5])
        carbs_dinner = p["dinner_carbs_g"] * np.exp(0.3 * z[:, 6])
        carbs_snack = np.where(
            u[:, 2] < p["snack_probability"], p["snack_carbs_g"] * np.exp(0.3 * z[:, 7]), 0.0
        )
        exercising = u[:, 5] < p["exercise_probability"]
        exercise_start = np.where(u[:, 6] < 0.3, wake + 30.0, 16.5 * 60 + 90.0 * u[:, 7])
        exercise_end = exercise_start + 30.0 + 45.0 * u[:, 8]
        intensity = np.where(exercising, 0.5 + 0.5 * u[:, 9], 0.0)
        sensitivity = np.exp(p["daily_sensitivity_sd"] * z[:, 8])
        sleep_length = p["wake_minute"] + DAY - p["bed_minute"]
        compressed = u[:, 10] < self._compression_rate
        compression_start = bed + 60.0 + u[:, 11] * np.maximum(sleep_length - 150.0, 0.0)
        compression_end = compression_start + 15.0 + 45.0 * u[:, 12]
        depth = np.where(compressed, 0.3 + 0.35 * u[:, 13], 0.0)

        local: list[NDArray[np.float64]] = []
        channel: list[int] = []
        amount: list[NDArray[np.float64]] = []

        def add(minute: NDArray[np.float64], ch: Channel, value: NDArray[np.float64]) -> None:
            local.append(minute)
            channel.append(ch)
            amount.append(value)

        add(wake, Channel.ASLEEP, np.full(n, -1.0))
        add(bed, Channel.ASLEEP, np.full(n, 1.0))
        for when, carbs in (
            (breakfast, carbs_breakfast),
            (lunch, carbs_lunch),
            (dinner, carbs_dinner),
            (snack, carbs_snack),
        ):
            add(when, Channel.CARBS, carbs)
        add(exercise_start, Channel.EXERCISE, intensity)
        add(exercise_end, Channel.EXERCISE, -intensity)
        add(compression_start, Channel.COMPRESSION, depth)
        add(compression_end, Channel.COMPRESSION, -depth)
        add(np.full(n, 4.0 * 60), Channel.SENSITIVITY, sensitivity - self._sensitivity[cols])
        self._sensitivity[cols] = sensitivity
        self._plan_boluses(
            cols,
            p,
            u,
            z,
            add,
            (breakfast, lunch, dinner, snack),
            (carbs_breakfast, carbs_lunch, carbs_dinner, carbs_snack),
        )

        local_minutes = np.round(np.stack(local) + (day * DAY)[None, :]).astype(np.int64)
        sim_minutes = np.empty_like(local_minutes)
        patient_cols = np.broadcast_to(cols, local_minutes.shape)
        zones = np.array([self._patients[c].timezone for c in cols])
        for zone in np.unique(zones):
            members = zones == zone
            sim_minutes[:, members] = (
                self._clocks[str(zone)].to_utc(local_minutes[:, members]) - self._origin
            )
        amounts = np.stack(amount)
        channels = np.broadcast_to(np.array(channel, np.int64)[:, None], local_minutes.shape)
        keep = amounts != 0.0
        return Events(
            sim_minutes[keep], patient_cols[keep], channels[keep], amounts[keep].astype(np.float64)
        )

    def _plan_boluses(
        self,
        cols: NDArray[np.int64],
        p: dict[str, NDArray[np.float64]],
        u: NDArray[np.float64],
        z: NDArray[np.float64],
        add: Callable[[NDArray[np.float64], Channel, NDArray[np.float64]], None],
        meal_times: tuple[NDArray[np.float64], ...],
        meal_carbs: tuple[NDArray[np.float64], ...],
    ) -> None:
        t1 = self._t1[cols]
        for k, (when, carbs) in enumerate(zip(meal_times, meal_carbs, strict=True)):
            snack = k == 3
            counted = carbs * np.exp(p["carb_count_error_sd"] * z[:, 9 + k])
            ratio = np.where(t1, p["carb_ratio_g_per_u"], 1.0)
            dose = np.where(t1, counted / ratio, 0.0)
            # Per-meal draws are shared cyclically; one uniform decides missed/late/pre-bolus.
            decide = (u[:, 14] + 0.37 * k) % 1.0
            missed = decide < (0.5 if snack else 1.0) * p["missed_bolus_probability"] + (
                0.4 if snack else 0.0
            )
            late = ~missed & (decide > 1.0 - p["late_bolus_probability"])
            shift = np.where(late, 15.0 + 45.0 * ((u[:, 15] + 0.61 * k) % 1.0), -10.0 * decide)
            add(when + shift, Channel.BOLUS, np.where(missed, 0.0, dose))
