"""Codec benchmark: Avro single-object encode/decode rate vs json on the same records.

Baseline, measured in the same run on the same records: ``json.dumps`` / ``json.loads``.
Target (issue 2): decode >= 200k records/s on one core.

    python bench/codec.py [--records 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from glucosestream.contract.codec import default_codec
from tests.factories import trace


def best_rate(work: Callable[[], object], items: int, repeats: int = 5) -> float:
    """Items per second of the fastest of ``repeats`` runs (the least disturbed by noise)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return items / best


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says

    per_patient = 2016  # one week of 5-minute readings
    patients = max(1, args.records // per_patient)
    records = [r.to_record() for p in range(patients) for r in trace(p, per_patient)]
    n = len(records)
    codec = default_codec()
    encoded = [codec.encode(r) for r in records]
    as_json = [json.dumps(r) for r in records]
    assert [codec.decode(b) for b in encoded[:100]] == records[:100]

    encode = codec.encode
    decode = codec.decode
    rates = {
        "avro encode": best_rate(lambda: [encode(r) for r in records], n),
        "json encode": best_rate(lambda: [json.dumps(r) for r in records], n),
        "avro decode": best_rate(lambda: [decode(b) for b in encoded], n),
        "json decode": best_rate(lambda: [json.loads(s) for s in as_json], n),
    }
    avro_bytes = sum(map(len, encoded)) / n
    json_bytes = sum(map(len, as_json)) / n
    print(f"records: {n}, one core, best of 5 runs")
    for name, rate in rates.items():
        print(f"  {name}: {rate:>12,.0f} records/s")
    print(f"  ratio encode avro/json: {rates['avro encode'] / rates['json encode']:.2f}")
    print(f"  ratio decode avro/json: {rates['avro decode'] / rates['json decode']:.2f}")
    print(
        f"  size avro/json: {avro_bytes:.0f} B / {json_bytes:.0f} B = {avro_bytes / json_bytes:.2f}"
    )
    verdict = "meets" if rates["avro decode"] >= 200_000 else "MISSES"
    print(f"  target decode >= 200,000 records/s: {verdict}")


if __name__ == "__main__":
    main()
