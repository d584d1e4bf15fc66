"""Ports for servers: never from the kernel's ephemeral range, never shared by xdist workers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from glucosestream.local import processes
from glucosestream.local.processes import StackError, free_port


def _ephemeral_range() -> range:
    text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
    low, high = map(int, text.split())
    return range(low, high + 1)


def test_a_free_port_is_bindable_and_below_the_ephemeral_range() -> None:
    ephemeral = _ephemeral_range()
    for _ in range(50):
        port = free_port()
        assert port not in ephemeral
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))


def test_xdist_workers_get_disjoint_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slices = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(set(processes._worker_slice(processes._SERVER_PORTS)))
        assert free_port() in slices[-1]
    assert not slices[0] & slices[1]
    assert not slices[1] & slices[2]
    assert not slices[0] & slices[2]
    assert sum(map(len, slices)) > 0.99 * len(processes._SERVER_PORTS)


def test_a_busy_port_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        monkeypatch.setattr(processes, "_SERVER_PORTS", range(taken, taken + 1))
        monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
        with pytest.raises(StackError, match=f"no free port on 127.0.0.1 in {taken}-{taken}"):
            free_port()
