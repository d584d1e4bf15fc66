"""Virtual-patient CGM cohort simulator: a pure model, no I/O.

``build_cohort`` draws the patients, ``simulate`` yields their deliveries in arrival order,
``simulate_readings`` the columnar readings before transport (with diagnostics), ``ground_truth``
each reading's truth and artefact label (keyed by event id), and ``paced`` replays deliveries
against the wall clock. See the module docstrings of
:mod:`~stream.simulator.physiology`, :mod:`~stream.simulator.sensor` and
:mod:`~stream.simulator.transport` for the model and its sources.
"""

from stream.simulator.cohort import DeviceKind, PatientParameters, VirtualPatient, build_cohort
from stream.simulator.config import (
    DEFAULT_START_MS,
    DEFAULT_TIMEZONES,
    NO_TRANSPORT_FAULTS,
    CohortConfig,
    Phenotype,
    SensorArtefacts,
    TransportFaults,
)
from stream.simulator.engine import simulate, simulate_readings
from stream.simulator.pacing import paced
from stream.simulator.sensor import Artefact, ReadingBatch
from stream.simulator.transport import Delivery
from stream.simulator.truth import TruthRow, ground_truth

__all__ = [
    "DEFAULT_START_MS",
    "DEFAULT_TIMEZONES",
    "NO_TRANSPORT_FAULTS",
    "Artefact",
    "CohortConfig",
    "Delivery",
    "DeviceKind",
    "PatientParameters",
    "Phenotype",
    "ReadingBatch",
    "SensorArtefacts",
    "TransportFaults",
    "TruthRow",
    "VirtualPatient",
    "build_cohort",
    "ground_truth",
    "paced",
    "simulate",
    "simulate_readings",
]
