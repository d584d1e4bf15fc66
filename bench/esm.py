"""Benchmark helper for the local event-source mapping, against raw shard reads in the same run.

Baseline: reading every record of a fresh stream with GetRecords (``KinesisStream.read_available``
per shard), the least any Kinesis consumer pays. Measured: the mapping delivering the same records
to a handler that does nothing (event building, base64, invocation bookkeeping and one durable
checkpoint per batch on top of the reads). The ratio is the mapping's overhead on this machine.

    python bench/esm.py [--records 20000] [--batch-size 100]

It brings up its own local stack on free loopback ports in a temporary directory and stops it.
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import dataclass
from typing import Any

from _stack import temporary_stack

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import KinesisStream, batches
from glucosestream.contract.entries import Entry
from glucosestream.local.esm import EventSourceMapping, MappingConfig
from glucosestream.settings import Settings


@dataclass(frozen=True)
class EsmBenchResult:
    records: int
    shards: int
    batch_size: int
    baseline_s: float
    """Seconds to read every record with GetRecords alone."""
    mapping_s: float
    """Seconds for the mapping to deliver and checkpoint every record."""
    invocations: int

    @property
    def baseline_per_s(self) -> float:
        return self.records / self.baseline_s

    @property
    def mapping_per_s(self) -> float:
        return self.records / self.mapping_s

    @property
    def ratio(self) -> float:
        """Mapping time over baseline time (1.0 = no overhead over raw reads)."""
        return self.mapping_s / self.baseline_s

    def summary(self) -> str:
        return (
            f"{self.records} records on {self.shards} shards, batch size {self.batch_size}: "
            f"raw GetRecords {self.baseline_per_s:,.0f}/s, mapping {self.mapping_per_s:,.0f}/s "
            f"({self.invocations} invocations), ratio {self.ratio:.2f}x"
        )


def _ignore(event: dict[str, Any], context: Any) -> None:
    return None


def benchmark(
    settings: Settings, *, records: int = 20_000, batch_size: int = 100, payload_bytes: int = 120
) -> EsmBenchResult:
    """Put ``records`` records of ``payload_bytes`` into a fresh stream and time both readers.

    The stream gets ``settings.stream_shards`` shards and a unique name, so repeated runs do not
    see each other's records; checkpoints go under ``settings.state_dir``.
    """
    stream = KinesisStream(aws_client("kinesis", settings), f"esm-bench-{uuid.uuid4().hex[:8]}")
    stream.ensure(settings.stream_shards)
    payload = b"x" * payload_bytes
    entries = (Entry(payload, f"patient-{i % 997}") for i in range(records))
    for batch in batches(entries):
        if stream.put_batch(batch).failed:
            raise RuntimeError("kinesis refused part of the benchmark data")

    started = time.perf_counter()
    read = sum(len(stream.read_available(shard)) for shard in stream.shard_ids())
    baseline_s = time.perf_counter() - started
    if read != records:
        raise RuntimeError(f"read {read} of {records} records back")

    esm = EventSourceMapping(
        "bench-" + uuid.uuid4().hex[:8],
        settings,
        _ignore,
        MappingConfig(batch_size=batch_size),
        stream=stream,
    )
    started = time.perf_counter()
    while esm.stats.records_succeeded < records:
        if not esm.poll_once():
            time.sleep(0.001)
    mapping_s = time.perf_counter() - started
    return EsmBenchResult(
        records=records,
        shards=settings.stream_shards,
        batch_size=batch_size,
        baseline_s=baseline_s,
        mapping_s=mapping_s,
        invocations=esm.stats.batches,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    with temporary_stack() as settings:
        result = benchmark(settings, records=args.records, batch_size=args.batch_size)
    print(result.summary())


if __name__ == "__main__":
    main()
