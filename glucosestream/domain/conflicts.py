"""Readings that claim the same identity with different glucose values.

Identity of a reading = (patient_id, device_id, measured_at) (DESIGN.md §3). Two copies of one
identity with the same value are a duplicate delivery, kept once by every sink. Two copies with
different values are a conflict: one of them is wrong (a clock error, two devices under one id,
a mis-resolved local time), and which one cannot be told from the data. Sinks keep one copy as
before, but a conflict is always counted and reported with an example, never resolved silently.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from glucosestream.domain.stable_order import order_by_code_then_instant

__all__ = ["ConflictReport", "find_conflicts", "find_conflicts_in_arrays"]


@dataclass(frozen=True, slots=True)
class ConflictReport:
    identities: int
    """Identities with more than one distinct glucose value."""
    example: str | None
    """The first conflict in source order, described for a person."""

    def phrase(self) -> str | None:
        if not self.identities:
            return None
        return (
            f"{self.identities} conflicting readings (same patient, device and instant, different "
            f"glucose; the first copy is kept), e.g. {self.example}"
        )


def find_conflicts(
    identities: Sequence[Hashable],
    glucose: Sequence[float],
    describe: Callable[[int], str],
) -> ConflictReport:
    """Count the identities seen with different glucose values.

    Parameters
    ----------
    identities
        Each reading's identity, in source order.
    glucose
        Each reading's glucose (mg/dL).
    describe
        Reading ``index`` for a person (which reading, where in the source), for the example;
        called only for the readings of the first conflict.
    """
    first_seen: dict[Hashable, int] = {}
    conflicting: set[Hashable] = set()
    example: str | None = None
    for index, identity in enumerate(identities):
        earlier = first_seen.setdefault(identity, index)
        if earlier == index or glucose[earlier] == glucose[index]:
            continue
        if identity not in conflicting and example is None:
            example = (
                f"{glucose[earlier]:g} mg/dL ({describe(earlier)}) and "
                f"{glucose[index]:g} mg/dL ({describe(index)})"
            )
        conflicting.add(identity)
    return ConflictReport(len(conflicting), example)


def find_conflicts_in_arrays(
    streams: np.ndarray,
    instants: np.ndarray,
    glucose: np.ndarray,
    describe: Callable[[int], str],
) -> ConflictReport:
    """:func:`find_conflicts` for identities given as columns, without a Python object per
    reading: the same count and the same example.

    Parameters
    ----------
    streams
        Each reading's ``(patient_id, device_id)`` as an integer code (int64), in source order.
    instants
        Each reading's ``measured_at`` (int64).
    glucose
        Each reading's glucose (mg/dL, float64).
    describe
        As for :func:`find_conflicts`.
    """
    count = len(glucose)
    if count == 0:
        return ConflictReport(0, None)
    order = order_by_code_then_instant(streams, instants)  # copies of one identity in order
    sorted_streams, sorted_instants = streams[order], instants[order]
    starts_identity = np.ones(count, bool)
    starts_identity[1:] = (sorted_streams[1:] != sorted_streams[:-1]) | (
        sorted_instants[1:] != sorted_instants[:-1]
    )
    identity = np.cumsum(starts_identity) - 1
    first_copy = order[starts_identity]
    """Source index of each identity's first copy."""
    differs = np.flatnonzero(glucose[order] != glucose[first_copy[identity]])
    if len(differs) == 0:
        return ConflictReport(0, None)
    # The example is the first copy, in source order, that differs from its identity's first.
    earliest = int(np.argmin(order[differs]))
    index = int(order[differs[earliest]])
    earlier = int(first_copy[identity[differs[earliest]]])
    example = (
        f"{float(glucose[earlier]):g} mg/dL ({describe(earlier)}) and "
        f"{float(glucose[index]):g} mg/dL ({describe(index)})"
    )
    return ConflictReport(len(np.unique(identity[differs])), example)
