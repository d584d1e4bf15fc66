"""Publish benchmark: the producer against raw PutRecords on the local stack, same run.

Baseline: ``put_records`` of pre-encoded bytes in batches of 500 (the least any producer pays).
Measured: ``Producer.publish`` of the same readings (encode + batch + put + retry bookkeeping),
without and with KPL aggregation. Targets (issue 3): producer overhead < 20 % of raw put time;
aggregation gives >= 20x fewer Kinesis records than readings.

    python bench/publish.py [--patients 200] [--days 1]

Starts its own local stack on free loopback ports in a temporary directory and stops it.
"""

from __future__ import annotations

import argparse
import time

from _stack import temporary_stack

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import batches, readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.contract.codec import default_codec
from glucosestream.contract.entries import Entry
from stream.simulator import CohortConfig, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with temporary_stack() as settings:
        run(settings, args)


def run(settings, args) -> None:  # type: ignore[no-untyped-def]
    config = CohortConfig(patients=args.patients, days=args.days, seed=1)
    readings = [d.reading for d in simulate(config)]
    codec = default_codec()
    entries = [Entry(codec.encode(r.to_record()), r.patient_id) for r in readings]
    client = aws_client("kinesis", settings)
    stream = readings_stream(settings, client)

    def raw() -> int:
        for batch in batches(entries):
            client.put_records(
                StreamName=stream.name,
                Records=[{"Data": e.data, "PartitionKey": e.partition_key} for e in batch],
            )
        return len(entries)

    def producer() -> int:
        return Producer(stream).publish(readings).kinesis_records

    def aggregated() -> int:
        return Producer(stream, aggregate=True).publish(readings).kinesis_records

    timings: dict[str, list[float]] = {"raw put_records": [], "producer": [], "producer+agg": []}
    records: dict[str, int] = {}
    for _ in range(args.rounds):  # interleaved, so drift hits all three alike
        for name, work in (
            ("raw put_records", raw),
            ("producer", producer),
            ("producer+agg", aggregated),
        ):
            started = time.perf_counter()
            records[name] = work()
            timings[name].append(time.perf_counter() - started)

    n = len(readings)
    best = {name: min(values) for name, values in timings.items()}
    print(f"readings: {n} ({args.patients} patients x {args.days:g} days), best of {args.rounds}")
    for name, seconds in best.items():
        print(f"  {name:>16}: {n / seconds:>10,.0f} readings/s, {records[name]:>7} Kinesis records")
    overhead = best["producer"] / best["raw put_records"] - 1
    print(f"  producer overhead vs raw put: {overhead:+.1%} (target < 20 %)")
    print(f"  ratio producer/raw time: {best['producer'] / best['raw put_records']:.2f}")
    print(f"  ratio producer+agg/raw time: {best['producer+agg'] / best['raw put_records']:.2f}")
    print(
        f"  readings per Kinesis record with aggregation: {n / records['producer+agg']:.0f}x "
        "(target >= 20x)"
    )


if __name__ == "__main__":
    main()
