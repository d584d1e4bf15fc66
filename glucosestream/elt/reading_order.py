"""Readings in series order, and each reading identity's first copy.

The grid metrics read each patient's readings in :data:`SERIES_ORDER` (patient, then instant,
then device), ties in input order — the order of Arrow's stable multi-key sort. A table often
comes in that order already (a CSV written patient by patient in time order), so
:func:`series_order` first checks for it in one pass (string comparisons of neighbours, no
hashing) and sorts only when the check fails; it then sorts integer keys, never strings, and
gives each patient's run of positions, so that callers take the numeric columns they need and
no string column is ever reordered. The same order puts the copies of one reading identity
(patient_id, device_id, measured_at) next to each other, so :func:`first_copies` finds them
with one more pass and keeps the first copy of each in input order, as every sink keeps the
earliest copy (DESIGN.md §3).

Pure numpy and pyarrow: it runs in the grid-metrics Lambda as well as in the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from glucosestream.domain.stable_order import order_by_code_then_instant

SERIES_ORDER = ("patient_id", "measured_at", "device_id")
"""The order of a patient's readings in its series (all ascending)."""

Positions = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SeriesOrder:
    """Where each row goes in series order, and where each patient's rows are there."""

    rows: Positions | None
    """Row indices in series order; ``None`` when the rows are in it already."""
    bounds: Positions
    """Positions in series order where each patient's rows begin, then the row count."""
    patients: list[str]
    """Each patient's id, in order (one per run of :attr:`bounds`)."""
    instants: Positions
    """Each row's ``measured_at`` (the column's integers) in series order: the sort has them,
    and the search for copies needs them."""

    def ordered(self, values: np.ndarray) -> np.ndarray:
        """A column's values (one per row, as numpy) in series order."""
        return values if self.rows is None else values[self.rows]


def series_order(readings: pa.Table) -> SeriesOrder:
    """The series order of the rows: :data:`SERIES_ORDER`, ties in input order, equal to
    Arrow's stable multi-key sort (nulls, rare, are left to that sort: it puts them last)."""
    if any(readings.column(name).null_count for name in SERIES_ORDER):
        return _arrow_sorted(readings)
    count = readings.num_rows
    measured = _instants(readings)
    patient = readings.column("patient_id")
    new_patient = _new_patient_if_in_series_order(readings, patient, measured)
    if new_patient is not None:
        heads = np.concatenate(([0], np.flatnonzero(new_patient) + 1)).astype(np.int64)
        names = patient.take(heads).to_pylist() if count else []
        bounds = np.append(heads, count) if count else np.zeros(1, np.int64)
        return SeriesOrder(None, bounds, names, measured)
    ranks, names = _ranks(patient)
    rows, sorted_ranks, sorted_instants = _sorted_rows(readings, ranks, measured)
    heads = np.concatenate(([0], np.flatnonzero(np.diff(sorted_ranks)) + 1)).astype(np.int64)
    patients = [names[r] for r in sorted_ranks[heads]]
    return SeriesOrder(rows, np.append(heads, count), patients, sorted_instants)


def first_copies(readings: pa.Table) -> tuple[pa.Table, SeriesOrder]:
    """The readings without repeated identities (patient_id, device_id, measured_at) — the
    first copy of each, in input order, is kept, the rows otherwise as they are (the table
    itself when nothing repeats) — and their series order (found once for both)."""
    order = series_order(readings)
    measured = order.instants
    # Copies are neighbours in series order, within one patient's run: same instant (integers),
    # then the same device (strings, compared only there).
    later = np.flatnonzero(measured[1:] == measured[:-1]) + 1
    later = later[~np.isin(later, order.bounds)]
    if not len(later):
        return readings, order
    rows = np.arange(readings.num_rows) if order.rows is None else order.rows
    device = readings.column("device_id")
    copy = pc.equal(device.take(rows[later]), device.take(rows[later - 1]))
    repeated = rows[later[copy.to_numpy(zero_copy_only=False)]]
    if not len(repeated):
        return readings, order
    keep = np.ones(readings.num_rows, bool)
    keep[repeated] = False
    return readings.filter(pa.array(keep)), _without(order, keep)


def _without(order: SeriesOrder, keep: npt.NDArray[np.bool_]) -> SeriesOrder:
    """The series order of the rows ``keep`` holds (a patient's first copy is always kept)."""
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    if order.rows is None:
        return SeriesOrder(None, kept_before[order.bounds], order.patients, order.instants[keep])
    kept_sorted = keep[order.rows]
    rows = kept_before[order.rows[kept_sorted]]
    bounds = np.concatenate(([0], np.cumsum(kept_sorted)))[order.bounds]
    return SeriesOrder(rows, bounds, order.patients, order.instants[kept_sorted])


def _instants(readings: pa.Table) -> Positions:
    return np.asarray(
        readings.column("measured_at").cast(pa.int64()).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )


def _differs_from_previous(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """For each row but the first: whether its value differs from the row before."""
    count = len(column)
    if count < 2:
        return np.zeros(0, bool)
    differs = pc.not_equal(column.slice(1), column.slice(0, count - 1))
    return np.asarray(differs.fill_null(True).to_numpy(zero_copy_only=False), dtype=bool)


def _new_patient_if_in_series_order(
    readings: pa.Table, patient: pa.ChunkedArray, measured: Positions
) -> npt.NDArray[np.bool_] | None:
    """For each row but the first, whether it starts another patient — when the rows are in
    :data:`SERIES_ORDER` (no nulls): ids never decrease from a row to the next (so each
    patient's rows are one run, the runs in id order), instants never decrease within a patient
    and devices never decrease at one instant; else ``None``. The first disorder ends the
    check: rows in another order cost two comparisons of neighbours."""
    count = readings.num_rows
    if count < 2:
        return np.zeros(max(count - 1, 0), bool)
    before, after = patient.slice(0, count - 1), patient.slice(1)
    if pc.any(pc.greater(before, after)).as_py():
        return None
    same_patient = np.asarray(pc.equal(before, after).to_numpy(zero_copy_only=False), bool)
    step = np.diff(measured)
    if bool(np.any(step[same_patient] < 0)):
        return None
    ties = np.flatnonzero(same_patient & (step == 0))
    device = readings.column("device_id")
    if len(ties) and not pc.all(pc.less_equal(device.take(ties), device.take(ties + 1))).as_py():
        return None
    return ~same_patient


def _sorted_rows(
    readings: pa.Table, ranks: Positions, measured: Positions
) -> tuple[Positions, Positions, Positions]:
    """Row indices sorted by (patient rank, instant), then devices at one instant, stable; and
    the ranks and instants in that order (reordering rows tied on both leaves them as they
    are)."""
    rows = order_by_code_then_instant(ranks, measured)
    # Rows of one patient at one instant (two devices, or copies) are ordered by device, then
    # input order: only those rows' devices are ranked.
    sorted_ranks, sorted_instants = ranks[rows], measured[rows]
    tied = np.flatnonzero(
        (sorted_ranks[1:] == sorted_ranks[:-1]) & (sorted_instants[1:] == sorted_instants[:-1])
    )
    if not len(tied):
        return rows, sorted_ranks, sorted_instants
    positions = np.unique(np.concatenate((tied, tied + 1)))
    group = np.cumsum(~np.isin(positions - 1, tied))  # a group goes on while keys are equal
    device_ranks, _ = _ranks(readings.column("device_id").take(rows[positions]))
    within = np.lexsort((rows[positions], device_ranks, group))
    rows[positions] = rows[positions][within]
    return rows, sorted_ranks, sorted_instants


def _ranks(column: pa.Array | pa.ChunkedArray) -> tuple[Positions, list[str]]:
    """Each value's rank among the column's distinct values in Arrow's sort order, and the
    distinct values in that order."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries()
        chunks = encoded.chunks
        dictionary = chunks[0].dictionary if chunks else pa.array([], column.type)
        indices = np.concatenate(
            [chunk.indices.to_numpy(zero_copy_only=False) for chunk in chunks]
            or [np.zeros(0, np.int64)]
        )
    else:
        dictionary, indices = encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False)
    by_value = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(by_value.size, dtype=np.int64)
    rank[by_value] = np.arange(by_value.size)
    return rank[indices], dictionary.take(by_value).to_pylist()


def _arrow_sorted(readings: pa.Table) -> SeriesOrder:
    rows = pc.sort_indices(readings, sort_keys=[(name, "ascending") for name in SERIES_ORDER])
    patient = readings.column("patient_id").take(rows).combine_chunks()
    heads = np.concatenate(([0], np.flatnonzero(_differs_from_previous(patient)) + 1))
    positions = rows.to_numpy().astype(np.int64)
    return SeriesOrder(
        positions,
        np.append(heads, readings.num_rows).astype(np.int64),
        patient.take(heads).to_pylist() if readings.num_rows else [],
        _instants(readings)[positions],
    )
