"""Readings in series order, and each reading identity's first copy.

The grid metrics read each patient's readings in :data:`SERIES_ORDER` (patient, then instant,
then device). A table usually comes in that order already — a CSV written patient by patient
in time order, readings deduplicated from one — so :func:`reading_order` first checks for it in
one pass over the columns (string comparisons of neighbours, no hashing) and sorts only when
the check fails. The same order puts the copies of one reading identity (patient_id,
device_id, measured_at) next to each other, in input order, so :func:`first_copies`
deduplicates with one more pass: the first copy of each identity is kept, as every sink keeps
the earliest copy (DESIGN.md §3).

Pure numpy and pyarrow: it runs in the grid-metrics Lambda as well as in the CLI.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

SERIES_ORDER = ("patient_id", "measured_at", "device_id")
"""The order of a patient's readings in its series (all ascending)."""


def reading_order(readings: pa.Table) -> pa.Array | None:
    """Row indices in :data:`SERIES_ORDER`, ties in input order (Arrow's stable sort), or
    ``None`` when the rows are in that order already.

    The strings are ranked once among their distinct values and the rows sorted by integer
    keys with numpy's stable ``lexsort``: the same order as Arrow's multi-key sort (which
    compares strings row by row), for a fraction of the cost. Nulls keep Arrow's own sort (it
    puts them last).
    """
    if any(readings.column(name).null_count for name in SERIES_ORDER):
        return pc.sort_indices(readings, sort_keys=[(name, "ascending") for name in SERIES_ORDER])
    measured = _instants(readings)
    if _in_series_order(readings, measured):
        return None
    keys = (_ranks(readings.column("device_id")), measured, _ranks(readings.column("patient_id")))
    return pa.array(np.lexsort(keys))


def in_series_order(readings: pa.Table) -> pa.Table:
    """The readings sorted in :data:`SERIES_ORDER` (the table itself when they are)."""
    order = reading_order(readings)
    return readings if order is None else readings.take(order)


def first_copies(readings: pa.Table) -> pa.Table:
    """The readings in :data:`SERIES_ORDER` with only the first copy, in input order, of each
    identity (patient_id, device_id, measured_at)."""
    ordered = in_series_order(readings)
    measured = _instants(ordered)
    # Copies are neighbours in series order: same instant first (integers), then the strings.
    later = np.flatnonzero(measured[1:] == measured[:-1]) + 1
    if not len(later):
        return ordered
    copy = np.ones(len(later), bool)
    for name in ("patient_id", "device_id"):
        column = ordered.column(name)
        copy &= pc.equal(column.take(later), column.take(later - 1)).to_numpy(zero_copy_only=False)
    if not copy.any():
        return ordered
    keep = np.ones(ordered.num_rows, bool)
    keep[later[copy]] = False
    return ordered.filter(pa.array(keep))


def _instants(readings: pa.Table) -> npt.NDArray[np.int64]:
    return np.asarray(
        readings.column("measured_at").cast(pa.int64()).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )


def _in_series_order(readings: pa.Table, measured: npt.NDArray[np.int64]) -> bool:
    """Whether the rows are in :data:`SERIES_ORDER` (no nulls): each patient's rows form one
    run, the runs in ascending id order, instants ascending in a run and devices ascending at
    one instant."""
    count = readings.num_rows
    if count < 2:
        return True
    patient = readings.column("patient_id").combine_chunks()
    new_patient = pc.not_equal(patient.slice(1), patient.slice(0, count - 1)).to_numpy(
        zero_copy_only=False
    )
    heads = patient.take(np.concatenate(([0], np.flatnonzero(new_patient) + 1)))
    if (
        len(heads) > 1
        and not pc.all(pc.less(heads.slice(0, len(heads) - 1), heads.slice(1))).as_py()
    ):
        return False
    step = np.diff(measured)
    same_patient = ~new_patient
    if bool(np.any(step[same_patient] < 0)):
        return False
    ties = np.flatnonzero(same_patient & (step == 0))
    if not len(ties):
        return True
    device = readings.column("device_id")
    return bool(pc.all(pc.less_equal(device.take(ties), device.take(ties + 1))).as_py())


def _ranks(column: pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Each value's rank among the column's distinct values, in Arrow's sort order."""
    encoded = column.combine_chunks().dictionary_encode()
    by_value = pc.array_sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(by_value.size, dtype=np.int64)
    rank[by_value] = np.arange(by_value.size)
    out: npt.NDArray[np.int64] = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    return out
