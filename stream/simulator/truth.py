"""Ground truth of a simulated cohort: per reading, what the sensor reported and what was true.

The contract carries the reported glucose only. To score an alert rule (did it page a true low,
did an artefact make it page?) each reading also needs the interstitial glucose the sensor
measures, the plasma glucose behind it, and the artefact that distorted it: one
:class:`TruthRow` per reading, keyed by the reading's ``event_id`` (the contract's deterministic
id, so a delivered reading, duplicates included, joins its row). Rows are readings as measured,
before transport: one per reading, in measurement order within each chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from glucosestream.domain.identity import reading_event_id
from glucosestream.domain.reading import ReadingStatus
from stream.simulator.cohort import VirtualPatient, build_cohort
from stream.simulator.config import CohortConfig
from stream.simulator.engine import simulate_readings
from stream.simulator.sensor import ARTEFACTS, STATUSES, Artefact


@dataclass(frozen=True, slots=True)
class TruthRow:
    """One reading and its ground truth."""

    event_id: str
    patient_id: str
    measured_at: int
    """UTC epoch milliseconds."""
    glucose_mg_dl: int
    """Reported, as in the contract (40 / 400 when out of the sensor's range)."""
    status: ReadingStatus
    interstitial_mg_dl: float
    """What the sensor measures: the truth an alert on this reading is judged against."""
    plasma_mg_dl: float
    artefact: Artefact
    after_signal_loss: bool
    """The first reading after a signal-loss gap (the gap itself has no readings)."""


def ground_truth(
    config: CohortConfig, cohort: list[VirtualPatient] | None = None
) -> Iterator[TruthRow]:
    """The truth of every reading ``simulate(config)`` delivers, one row per reading.

    Parameters
    ----------
    config
        The cohort config.
    cohort
        The patients, when already built (must be ``build_cohort(config)``).
    """
    patients = build_cohort(config) if cohort is None else cohort
    patient_ids = [p.patient_id for p in patients]
    device_ids = [p.device_id for p in patients]
    for batch in simulate_readings(config, patients):
        for col, measured, glucose, status, interstitial, plasma, artefact, after_loss in zip(
            batch.patient.tolist(),
            batch.measured_at.tolist(),
            batch.glucose.tolist(),
            batch.status.tolist(),
            batch.interstitial.tolist(),
            batch.plasma.tolist(),
            batch.artefact.tolist(),
            batch.after_signal_loss.tolist(),
            strict=True,
        ):
            yield TruthRow(
                event_id=reading_event_id(patient_ids[col], device_ids[col], measured),
                patient_id=patient_ids[col],
                measured_at=measured,
                glucose_mg_dl=glucose,
                status=STATUSES[status],
                interstitial_mg_dl=interstitial,
                plasma_mg_dl=plasma,
                artefact=ARTEFACTS[artefact],
                after_signal_loss=after_loss,
            )
