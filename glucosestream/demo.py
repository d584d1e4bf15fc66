"""``glucosestream demo`` — what ``make run`` runs: the main job on one machine.

Now: brings the local stack up, streams a simulated cohort into Kinesis, reads every reading back
from the shards and checks that none is missing or out of per-patient order, then keeps the stack
serving until Ctrl-C or SIGTERM, when it stops every process it started.
"""

from __future__ import annotations

import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from types import FrameType

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.kinesis import KinesisStream
from glucosestream.codec import default_codec
from glucosestream.local import stack
from glucosestream.settings import Settings
from stream.producer import Producer
from stream.simulator import CohortConfig, simulate


@dataclass(frozen=True)
class DemoOptions:
    patients: int = 20
    days: float = 1.0
    seed: int = 1
    duration_s: float | None = None
    """Seconds to keep serving after the check; None = until Ctrl-C / SIGTERM."""


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def run_demo(settings: Settings, options: DemoOptions) -> int:
    # Installed explicitly: a process started in the background inherits SIGINT ignored, and
    # Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    ours = not stack.status(settings).running
    try:
        status = stack.up(settings)
        print(
            "local stack:", ", ".join(f"{k} {v}" for k, v in status.endpoints.items()), flush=True
        )
        ok = stream_and_verify(settings, options)
        if not ok:
            return 1
        print("serving; press Ctrl-C to stop", flush=True)
        deadline = None if options.duration_s is None else time.monotonic() + options.duration_s
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
        return 0
    except _Stop as stop:
        print(f"\nstopping ({stop})", flush=True)
        return 0
    finally:
        # A second Ctrl-C must not interrupt the shutdown half way.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        if ours:
            stopped = stack.down(settings)
            print(f"stopped {', '.join(stopped) or 'nothing'}", flush=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stream_and_verify(settings: Settings, options: DemoOptions) -> bool:
    """Publish a simulated cohort, read it back from the stream's tip, compare. True if equal."""
    stream = KinesisStream(aws_client("kinesis", settings), settings.names.readings_stream)
    shard_ids = stream.shard_ids()
    tips = {shard_id: stream.shard_iterator(shard_id, latest=True) for shard_id in shard_ids}

    config = CohortConfig(
        patients=options.patients,
        days=options.days,
        seed=options.seed,
        pseudonym_key=settings.pseudonym_key_bytes,
    )
    readings = [delivery.reading for delivery in simulate(config)]
    started = time.perf_counter()
    report = Producer(stream).publish(readings)
    publish_s = time.perf_counter() - started
    print(
        f"published {report.sent} readings of {options.patients} simulated patients "
        f"({options.days:g} days) in {publish_s:.2f} s with {report.put_calls} PutRecords calls",
        flush=True,
    )

    started = time.perf_counter()
    codec = default_codec()
    received: dict[str, list[str]] = defaultdict(list)
    for shard_id, iterator in tips.items():
        for record in stream.read_from(shard_id, iterator):
            decoded = codec.decode(record.data)
            received[decoded["patient_id"]].append(decoded["event_id"])
    read_s = time.perf_counter() - started
    sent: dict[str, list[str]] = defaultdict(list)
    for reading in readings:
        sent[reading.patient_id].append(reading.event_id)

    got = sum(len(ids) for ids in received.values())
    missing = Counter(e for ids in sent.values() for e in ids) - Counter(
        e for ids in received.values() for e in ids
    )
    print(f"read back {got} readings from {len(shard_ids)} shards in {read_s:.2f} s", flush=True)
    if missing or got != len(readings):
        print(f"MISMATCH: {sum(missing.values())} readings missing, {got - len(readings)} extra")
        return False
    if received != sent:
        print("MISMATCH: per-patient order differs from the order sent")
        return False
    print("check: every reading came back once, in per-patient order", flush=True)
    return True
