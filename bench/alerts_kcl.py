"""Alerts consumer on the KCL beside the Lambda stand-in: PutRecords → alert in the SQS feed.

The same load (``--patients`` falling patients, a reading each every 3 s, falls staggered in ten
waves) first through the local event-source mapping with the alerts Lambda handler (batching
window 0, as fast as the stand-in goes), then through the KCL application (the MultiLangDaemon
and its Python record processors, ``glucosestream.local.kcl``; polling every 250 ms), in one run
on one local stack. Prints p50/p99 of each and the KCL/Lambda ratio. Target (issue 19): KCL
p99 < 1 s locally. The KCL's start-up (1.5-2 min to its first lease on moto) is waited out
before measuring and not counted.

    python bench/alerts_kcl.py [--patients 100]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

from _stack import temporary_stack
from alerts import FALL, alert_latencies, describe, lambda_latencies, purge_feed

from glucosestream.adapters.kinesis import readings_stream
from glucosestream.adapters.producer import Producer
from glucosestream.local.kcl import KclDaemon, processor_totals
from glucosestream.settings import Settings
from tests.factories import patient, reading

os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")


def kcl_path(settings: Settings, patients: int) -> tuple[list[float], float]:
    """The latencies, and the seconds the KCL took to read its first record."""
    daemon = KclDaemon(settings, worker_id="bench-1")
    since = datetime.now(UTC).isoformat()
    started = time.monotonic()
    daemon.start()
    try:
        # Everything the Lambda path published is read first (TRIM_HORIZON), then a marker.
        marker = reading(patient_id=patient(1), glucose_mg_dl=FALL[0])
        Producer(readings_stream(settings)).publish([marker])
        while processor_totals(settings, since)["records_succeeded"] == 0:
            if time.monotonic() - started > 600:
                raise SystemExit("the KCL consumer read nothing in 10 minutes")
            time.sleep(1)
        first_read_s = time.monotonic() - started
        time.sleep(5)  # the backlog of the Lambda run
        feed = purge_feed(settings)
        return alert_latencies(settings, patients, feed, "kcl"), first_read_s
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=100, help="3 alerts each")
    args = parser.parse_args()
    with temporary_stack() as settings:
        for name, value in settings.as_environment().items():
            os.environ[name] = value
        lambda_cut = describe(lambda_latencies(settings, args.patients, 0))
        kcl_received, first_read_s = kcl_path(settings, args.patients)
        kcl_cut = describe(kcl_received)
    print(
        f"alert latency PutRecords -> SQS, {args.patients} falling patients (3 alerts each), "
        "one local stack"
    )
    if lambda_cut is not None:
        print(f"   Lambda stand-in (no batching window): p50 {lambda_cut[0]:.2f} s, "
              f"p99 {lambda_cut[1]:.2f} s")  # fmt: skip
    if kcl_cut is not None:
        verdict = "meets" if kcl_cut[1] < 1 else "MISSES"
        print(f"   KCL consumer: p50 {kcl_cut[0]:.2f} s, p99 {kcl_cut[1]:.2f} s "
              f"(target p99 < 1 s: {verdict}); first record read {first_read_s:.0f} s "
              "after the daemon started")  # fmt: skip
    if lambda_cut is not None and kcl_cut is not None:
        print(f"   ratio KCL/Lambda: p50 {kcl_cut[0] / lambda_cut[0]:.2f}x, "
              f"p99 {kcl_cut[1] / lambda_cut[1]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
