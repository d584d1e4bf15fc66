"""Raw zone benchmark: landing rate of the local Firehose worker against raw stream reads.

Baseline: reading every record of the stream with GetRecords alone, every shard concurrently (one
thread a shard), as the worker reads them — the most any consumer of this stream can land.
Measured, in the same run and on the same records: the local Firehose delivery worker from
TRIM_HORIZON to every reading in a durable (fsynced, renamed) Parquet file and the checkpoints
saved: reads, KPL de-aggregation, the transform Lambda (Avro decode, contract check, JSON),
JSON→Parquet conversion through the Glue schema, zstd, fsync — once with the transform invoked
on the worker's thread, once in ``--transform-processes`` worker processes (as Firehose invokes
its Lambda concurrently; their cold start is waited for before timing).

Targets (issue): ratio landing/raw >= 0.8 and >= 10,000 readings/s landed.

The CPU each landing took is printed by process (/proc): the worker, the transform processes,
kinesalite serving the reads. On a machine with few cores it bounds the ratio: landing costs all
of the raw read's CPU (kinesalite, GetRecords parsing) plus the transform and the Parquet
writes, so with C cores the landing cannot take less than (its CPU seconds) / C.

    python bench/raw_zone.py [--patients 40] [--days 9] [--shards 2] [--rounds 2] [--aggregate]
                             [--transform-processes 2]

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
from dataclasses import dataclass
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


def process_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds so far of every process of this machine, by pid: (what it runs, seconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seen = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        seen[int(entry.name)] = (command, (int(fields[11]) + int(fields[12])) / ticks)
    return seen


def cpu_between(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds spent between two :func:`process_cpu` readings: this process, the transform
    processes, kinesalite (serving the reads), everything else."""
    spent = {"worker": 0.0, "transform processes": 0.0, "kinesalite": 0.0, "other": 0.0}
    for pid, (command, seconds) in after.items():
        delta = seconds - before.get(pid, (command, 0.0))[1]
        if pid == os.getpid():
            spent["worker"] += delta
        elif "multiprocessing" in command and pid in before:
            spent["transform processes"] += delta
        elif "kinesalite" in command:
            spent["kinesalite"] += delta
        else:
            spent["other"] += delta
    return spent


@dataclass(frozen=True)
class Landing:
    seconds: float
    worker: FirehoseWorker
    cpu: dict[str, float]
    """CPU seconds while landing, by process (:func:`cpu_between`)."""


def land(settings: Settings, stream: KinesisStream, readings: int, processes: int) -> Landing:
    """A fresh worker lands every reading durably (checkpoints saved); its transform processes'
    cold start is waited for first (a long-running worker pays it once)."""
    lake = Path(tempfile.mkdtemp(dir=settings.state_dir, prefix="lake-"))
    worker = FirehoseWorker(
        settings,
        stream=stream,
        name=f"bench-{uuid.uuid4().hex[:8]}",
        lake=LocalLakeStorage(lake, settings.names.lake_bucket),
        transform_processes=processes,
    )
    worker.wait_warm()
    cpu_before = process_cpu()
    started = time.perf_counter()
    try:
        while worker.stats.rows_landed + worker.stats.errors_landed < readings:
            if worker.poll_once() == 0 and worker.stats.user_records >= readings:
                worker.flush(force=True)
        elapsed = time.perf_counter() - started
        cpu = cpu_between(cpu_before, process_cpu())
    finally:
        worker.close()
    counts = count_raw_zone(lake)
    if counts.raw_rows != readings or worker.stats.errors_landed:
        raise RuntimeError(f"landed {counts} for {readings} readings put")
    return Landing(elapsed, worker, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--days", type=float, default=9.0)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--aggregate", action="store_true")
    parser.add_argument(
        "--transform-processes",
        type=int,
        default=2,
        help="the second landing runs the transform in this many processes (the first: none)",
    )
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
        configurations = (0, args.transform_processes)
        best_raw = float("inf")
        best: dict[int, Landing] = {}
        for round_number in range(1, args.rounds + 1):
            read, raw_s = raw_read(stream)
            if read != len(readings):
                raise RuntimeError(f"read {read} readings back, put {len(readings)}")
            best_raw = min(best_raw, raw_s)
            line = f"round {round_number}: raw GetRecords {read / raw_s:>9,.0f} readings/s"
            for processes in configurations:
                landing = land(settings, stream, len(readings), processes)
                if processes not in best or landing.seconds < best[processes].seconds:
                    best[processes] = landing
                rate = read / landing.seconds
                line += f" | landed ({processes} transform processes) {rate:>7,.0f}/s"
            print(line)
        raw_rate = len(readings) / best_raw
        print(f"best of {args.rounds}: raw {raw_rate:,.0f}/s")
        for processes, landing in best.items():
            rate = len(readings) / landing.seconds
            cpu = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in landing.cpu.items())
            busy = sum(landing.cpu.values()) / landing.seconds
            print(
                f"  {processes} transform processes: landed {rate:,.0f}/s, ratio landed/raw = "
                f"{rate / raw_rate:.2f} ({landing.worker.stats.raw_files} files, "
                f"{landing.worker.stats.invocations} invocations); wall {landing.seconds:.2f} s, "
                f"CPU {cpu}: {busy:.2f} of {os.cpu_count()} cores busy"
            )
        rate = len(readings) / min(landing.seconds for landing in best.values())
        ratio = rate / raw_rate
        print(
            f"ratio landed/raw (best configuration) = {ratio:.2f} "
            f"(target >= 0.8: {'meets' if ratio >= 0.8 else 'MISSES'}); "
            f"landing rate target >= 10,000/s: {'meets' if rate >= 10_000 else 'MISSES'}"
        )
        fastest = min(best.values(), key=lambda landing: landing.seconds)
        floor_s = sum(fastest.cpu.values()) / (os.cpu_count() or 1)
        print(
            f"CPU floor of that landing on {os.cpu_count()} cores: {floor_s:.2f} s "
            f"(its CPU / cores) -> ratio at most {len(readings) / floor_s / raw_rate:.2f} here"
        )


if __name__ == "__main__":
    main()
