"""Rows ordered by an integer code, then an instant, ties in input order — the sort that both
the conflict search (code: a reading's stream) and the grid metrics' series order (code: a
patient's rank) need."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PACKED_LIMIT = 2**62
"""Code and instant are packed into one int64 key below this."""
RADIX_CODES = 2**16
"""Codes below this are sorted alone first, by numpy's radix sort of 16-bit integers (linear
time; a stable sort of int64 keys is a merge sort)."""


def order_by_code_then_instant(
    codes: npt.NDArray[np.int64], instants: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Indices sorting the rows by ``codes``, then ``instants``, ties in input order (stable).

    The two keys are packed into one int64 where their ranges allow (always, for readings of a
    few centuries in milliseconds), so one stable sort does it — or none, when the rows are in
    order already (a file written patient by patient, in time order); otherwise ``lexsort``.
    When each code's rows are in time order already (a stream of many patients' readings, as
    they arrive), the stable sort by code alone is that order: few codes are radix-sorted, and
    the instants checked in one pass.
    """
    if not len(codes):
        return np.arange(0, dtype=np.int64)
    low = int(instants.min())
    span = int(instants.max()) - low + 1
    if int(codes.min()) < 0 or (int(codes.max()) + 1) * span >= PACKED_LIMIT:
        return np.lexsort((instants, codes)).astype(np.int64)
    key = codes * span + (instants - low)
    if bool(np.all(key[1:] >= key[:-1])):
        return np.arange(len(key), dtype=np.int64)
    if int(codes.max()) < RADIX_CODES:
        rows = np.argsort(codes.astype(np.uint16), kind="stable").astype(np.int64)
        in_order = key[rows]
        if bool(np.all(in_order[1:] >= in_order[:-1])):
            return rows
    return np.argsort(key, kind="stable").astype(np.int64)
