"""Raw zone benchmark: landing rate of the local Firehose worker against raw stream reads.

Baseline: reading every record of the stream with GetRecords alone, every shard concurrently (one
thread a shard), as the worker reads them — the most any consumer of this stream can land.
Measured, in the same run and on the same records: the local Firehose delivery worker from
TRIM_HORIZON to every reading in a durable (fsynced, renamed) Parquet file and the checkpoints
saved: reads, KPL de-aggregation, the transform Lambda (Avro decode, contract check, JSON),
JSON→Parquet conversion through the Glue schema, zstd, fsync.

Targets (issue): ratio landing/raw >= 0.8 and >= 10,000 readings/s landed.

    python bench/raw_zone.py [--patients 40] [--days 9] [--shards 2] [--rounds 2] [--aggregate]

With ``--aggregate`` the readings are put as KPL aggregates (~280 a record): the raw read rate then
counts readings, and reading a few hundred records is so cheap that the ratio says how fast the
transform is rather than whether the worker keeps up. It brings up its own local stack on free
loopback ports in a temporary directory and stops it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _stack import temporary_stack

from glucosestream.adapters.kinesis import KinesisStream, ShardReader, readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.kpl import deaggregate
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.lake.raw_zone.files import count_raw_zone
from glucosestream.local.firehose import FirehoseWorker
from glucosestream.settings import Settings
from stream.simulator import CohortConfig, simulate

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")


def raw_read(stream: KinesisStream) -> tuple[int, float]:
    """(readings, seconds) to read the whole stream with GetRecords, shards concurrently."""

    def shard(shard_id: str) -> int:
        readings = 0
        for page in ShardReader.at(stream, shard_id).catch_up():
            readings += sum(
                len(deaggregate(r.data, r.partition_key)) if r.data[:1] == b"\xf3" else 1
                for r in page.records
            )
        return readings

    shard_ids = stream.shard_ids()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(shard_ids)) as pool:
        readings = sum(pool.map(shard, shard_ids))
    return readings, time.perf_counter() - started


def land(settings: Settings, stream: KinesisStream, readings: int) -> tuple[float, FirehoseWorker]:
    """Seconds for a fresh worker to land every reading durably (checkpoints saved)."""
    lake = Path(tempfile.mkdtemp(dir=settings.state_dir, prefix="lake-"))
    worker = FirehoseWorker(
        settings,
        stream=stream,
        name=f"bench-{uuid.uuid4().hex[:8]}",
        lake=LocalLakeStorage(lake, settings.names.lake_bucket),
    )
    started = time.perf_counter()
    try:
        while worker.stats.rows_landed + worker.stats.errors_landed < readings:
            if worker.poll_once() == 0 and worker.stats.user_records >= readings:
                worker.flush(force=True)
        elapsed = time.perf_counter() - started
    finally:
        worker.close()
    counts = count_raw_zone(lake)
    if counts.raw_rows != readings or worker.stats.errors_landed:
        raise RuntimeError(f"landed {counts} for {readings} readings put")
    return elapsed, worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--days", type=float, default=9.0)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--aggregate", action="store_true")
    args = parser.parse_args()
    readings = [d.reading for d in simulate(CohortConfig(args.patients, args.days, seed=5))]
    with temporary_stack(stream_shards=args.shards) as settings:
        stream = readings_stream(settings)
        started = time.perf_counter()
        report = Producer(stream, aggregate=args.aggregate).publish(readings)
        put_s = time.perf_counter() - started
        print(
            f"put {report.sent:,} readings in {report.kinesis_records:,} Kinesis records "
            f"on {args.shards} shards ({put_s:.1f} s)"
        )
        best_raw = best_land = float("inf")
        worker = None
        for round_number in range(1, args.rounds + 1):
            read, raw_s = raw_read(stream)
            if read != len(readings):
                raise RuntimeError(f"read {read} readings back, put {len(readings)}")
            land_s, worker = land(settings, stream, len(readings))
            print(
                f"round {round_number}: raw GetRecords {read / raw_s:>9,.0f} readings/s | "
                f"landed {len(readings) / land_s:>9,.0f} readings/s "
                f"({worker.stats.raw_files} files, {worker.stats.invocations} invocations)"
            )
            best_raw, best_land = min(best_raw, raw_s), min(best_land, land_s)
        raw_rate, land_rate = len(readings) / best_raw, len(readings) / best_land
        ratio = land_rate / raw_rate
        print(f"best of {args.rounds}: raw {raw_rate:,.0f}/s, landed {land_rate:,.0f}/s")
        print(
            f"ratio landed/raw = {ratio:.2f} "
            f"(target >= 0.8: {'meets' if ratio >= 0.8 else 'MISSES'}); "
            f"landing rate target >= 10,000/s: {'meets' if land_rate >= 10_000 else 'MISSES'}"
        )


if __name__ == "__main__":
    main()
