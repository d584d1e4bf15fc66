"""Shared by the benchmarks that need the local stack: one on free loopback ports, in a temporary
directory, always stopped; and the dashboard's draining of its alerts queue, for benchmarks that
raise alerts without a dashboard running."""

from __future__ import annotations

import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glucosestream.adapters.clients import aws_client
from glucosestream.adapters.sqs_queue import SqsQueue
from glucosestream.dashboard.live import LiveFeed
from glucosestream.local import stack
from glucosestream.local.processes import free_port
from glucosestream.settings import Settings, load_settings


@contextmanager
def temporary_stack(**overrides: object) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as state:
        values: dict[str, object] = {
            "state_dir": Path(state),
            "kinesis_port": free_port(),
            "moto_port": free_port(),
            "env": "bench",
        }
        settings = load_settings(**{**values, **overrides})
        stack.up(settings)
        try:
            yield settings
        finally:
            stack.down(settings)


@contextmanager
def dashboard_draining(settings: Settings) -> Iterator[None]:
    """The dashboard's share of the topic: its queue drained as the live dashboard drains it
    (``LiveFeed.drain_alerts`` every 0.5 s). Left to fill, it would slow every publish here:
    moto computes a queue's attributes, a pass over every queued message, on each SendMessage
    — SQS does not."""
    queue = SqsQueue(aws_client("sqs", settings), settings.names.dashboard_alerts_queue)
    live = LiveFeed(settings)
    stop = threading.Event()

    def drain() -> None:
        while not stop.wait(live.poll_s):
            live.drain_alerts(queue)

    live.drain_alerts(queue)  # what earlier parts of the run left
    drainer = threading.Thread(target=drain, name="dashboard-drain", daemon=True)
    drainer.start()
    try:
        yield
    finally:
        stop.set()
        drainer.join()
