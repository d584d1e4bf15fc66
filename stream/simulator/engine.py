"""The chunked simulation loop: plans, physiology and sensor, vectorised across patients.

Time advances in chunks of :data:`CHUNK_MINUTES`; each chunk integrates every patient's
physiology minute by minute on ``(N,)`` arrays and samples the sensors, so memory is bounded by
the cohort size times the chunk length, whatever the number of days. The simulation starts
:data:`BURN_IN_MINUTES` before ``start_ms`` so that meals and insulin are already on board at
the start; readings before ``start_ms`` are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from stream.simulator.cohort import VirtualPatient, build_cohort
from stream.simulator.config import CohortConfig
from stream.simulator.lifestyle import (
    IMPULSE_CHANNELS,
    INITIAL_LEVELS,
    LEVEL_CHANNELS,
    Channel,
    Events,
    LifePlanner,
)
from stream.simulator.physiology import ChunkInputs, CohortPhysiology
from stream.simulator.sensor import ReadingBatch, SensorLayer
from stream.simulator.timezones import ZoneClock
from stream.simulator.transport import (
    Delivery,
    ReadingFactory,
    TransportLayer,
    in_arrival_order,
)

CHUNK_MINUTES = 720
"""Simulated minutes per chunk; a multiple of every cadence (5 and 15)."""
BURN_IN_MINUTES = 720


def zone_clocks(zones: set[str], first_minute: int, last_minute: int) -> dict[str, ZoneClock]:
    """A clock per zone over the UTC minutes ``[first_minute, last_minute]`` (plus margins)."""
    margin = 3 * 1440
    return {zone: ZoneClock(zone, first_minute - margin, last_minute + margin) for zone in zones}


def _inputs(
    events: Events, start: int, steps: int, n: int, levels: dict[Channel, np.ndarray]
) -> dict[Channel, np.ndarray]:
    """Dense per-minute arrays of every channel for minutes ``[start, start + steps)``."""
    dense: dict[Channel, np.ndarray] = {}
    row = np.clip(events.minute - start, 0, None)
    for channel in IMPULSE_CHANNELS:
        array = np.zeros((steps, n))
        mine = (events.channel == channel) & (events.minute >= start)
        np.add.at(array, (row[mine], events.patient[mine]), events.amount[mine])
        dense[channel] = array
    for channel in LEVEL_CHANNELS:
        delta = np.zeros((steps, n))
        mine = events.channel == channel
        # Changes before the chunk (only at the very start) fold into its first minute.
        np.add.at(delta, (row[mine], events.patient[mine]), events.amount[mine])
        delta[0] += levels[channel]
        level = np.cumsum(delta, axis=0)
        levels[channel] = level[-1].copy()
        dense[channel] = level
    return dense


def simulate_readings(
    config: CohortConfig, cohort: list[VirtualPatient] | None = None
) -> Iterator[ReadingBatch]:
    """Simulate the cohort and yield its readings chunk by chunk, before transport.

    Parameters
    ----------
    config
        The cohort config.
    cohort
        The patients, when already built (must be ``build_cohort(config)``).

    Yields
    ------
    ReadingBatch
        The readings measured in one chunk, in measurement order, with diagnostics.
    """
    for batch, _, _ in _chunks(config, build_cohort(config) if cohort is None else cohort):
        yield batch


def simulate(config: CohortConfig) -> Iterator[Delivery]:
    """Simulate the cohort and yield its deliveries in arrival order.

    The same config (seed included) always yields the same deliveries. Memory stays bounded:
    readings are produced chunk by chunk and only deliveries not yet due are held.
    """
    patients = build_cohort(config)
    transport = TransportLayer(config.faults, patients, config.seed)
    yield from in_arrival_order(_chunks(config, patients), transport, ReadingFactory(patients))


def _chunks(
    config: CohortConfig, patients: list[VirtualPatient]
) -> Iterator[tuple[ReadingBatch, int, int]]:
    """Each chunk's readings with the chunk's UTC span ``[start_ms, end_ms)``."""
    n = len(patients)
    start_minute = config.start_ms // 60_000
    origin_minute = start_minute - BURN_IN_MINUTES
    origin_ms = config.start_ms - BURN_IN_MINUTES * 60_000
    end = BURN_IN_MINUTES + config.duration_minutes
    end_ms = config.start_ms + round(config.days * 86_400_000)
    clocks = zone_clocks({p.timezone for p in patients}, origin_minute, origin_minute + end)
    planner = LifePlanner(config, patients, origin_minute, clocks)
    body = CohortPhysiology(patients, config.seed)
    sensors = SensorLayer(config, patients, origin_ms, BURN_IN_MINUTES, clocks)
    levels = {channel: np.full(n, INITIAL_LEVELS[channel]) for channel in LEVEL_CHANNELS}
    start = 0
    while start < end:
        steps = min(CHUNK_MINUTES, end - start)
        steps += -steps % 15
        events = planner.events_before(start + steps)
        dense = _inputs(events, start, steps, n, levels)
        minutes = np.arange(start, start + steps, dtype=np.int64)[:, None]
        local = planner.local_minute_grid(minutes)
        traces = body.advance(
            ChunkInputs(
                carbs_g=dense[Channel.CARBS],
                bolus_u=dense[Channel.BOLUS],
                asleep=dense[Channel.ASLEEP],
                exercise=dense[Channel.EXERCISE],
                compression=dense[Channel.COMPRESSION],
                sensitivity=dense[Channel.SENSITIVITY],
                minute_of_day=local % 1440,
            )
        )
        # The burn-in is sampled too, unreported, so the first reported trends have history.
        if start + steps > BURN_IN_MINUTES - CHUNK_MINUTES:
            batch = sensors.sample(start, traces, min(start + steps, end))
            batch = batch.take(np.flatnonzero(batch.measured_at < end_ms))
            if len(batch):
                first_ms = max(origin_ms + start * 60_000, config.start_ms)
                yield batch, first_ms, min(origin_ms + (start + steps) * 60_000, end_ms)
        start += steps
