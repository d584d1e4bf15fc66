"""The live feed degrades to a clear message when the local stack is not running."""

from __future__ import annotations

import time
from pathlib import Path

from glucosestream.dashboard.live import LiveFeed
from glucosestream.settings import load_settings
from tests.integration.conftest import free_port


def test_feed_without_a_stack_says_so_and_stops_cleanly(tmp_path: Path) -> None:
    settings = load_settings(
        state_dir=tmp_path, env="test", kinesis_port=free_port(), moto_port=free_port()
    )
    feed = LiveFeed(settings, retry_s=0.1)
    feed.start()
    try:
        deadline = time.monotonic() + 10
        while "unavailable" not in feed.status and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        feed.stop()
    assert feed.status.startswith("Live data unavailable: the local stack is not reachable")
    assert "glucosestream local up" in feed.status
    assert not feed.connected
    assert feed.readings_since("anyone", 0) == ([], 0)
