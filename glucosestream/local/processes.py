"""Start, watch and stop the local stack's server processes, and only the ones we started.

Each server runs in its own session (process group), so Ctrl-C in the terminal reaches only the
supervising command, which then stops its children in order.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class StackError(RuntimeError):
    """The local stack cannot do what was asked; the message says why and what to do."""


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid: int
    port: int
    marker: str
    """A string in the command line that identifies our process (guards against PID reuse)."""
    log: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def is_running(self) -> bool:
        return process_matches(self.pid, self.marker)


def process_matches(pid: int, marker: str) -> bool:
    """True when ``pid`` is alive, not a zombie, and its command line contains ``marker``."""
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z" and marker in cmdline


def ensure_port_free(host: str, port: int, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: connections of a stopped run lingering in TIME_WAIT are no clash.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StackError(
                    f"port {port} on {host} is busy: stop what uses it or set {setting}"
                ) from None
            raise


# Ports handed out for servers come from below the kernel's ephemeral range (32768-60999 on
# Linux): a port from bind(0) is released before the server takes it, and in that gap any
# outgoing connection on the machine may get it as its source port (seen in CI: a demo's API
# port taken between the probe and the bind). Below the range only another server can take it.
_SERVER_PORTS = range(20_000, 32_000)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on ``host`` now, for a server about to start (tests, benchmarks, scripts).

    Chosen at random below the ephemeral range, from a slice of it per pytest-xdist worker
    (``PYTEST_XDIST_WORKER``/``PYTEST_XDIST_WORKER_COUNT``) so parallel test processes never
    pick the same port; each candidate is checked by binding it.
    """
    ports = _worker_slice(_SERVER_PORTS)
    for _ in range(200):
        port = random.choice(ports)  # noqa: S311 - spreading ports, not a secret
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise StackError(f"no free port on {host} in {ports.start}-{ports.stop - 1} after 200 tries")


def _worker_slice(ports: range) -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return ports
    index = int(worker[2:]) % count
    size = len(ports) // count
    start = ports.start + index * size
    return range(start, start + size)


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    marker: str,
    log_dir: Path,
    env: dict[str, str] | None = None,
) -> tuple[ManagedProcess, subprocess.Popen[bytes]]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        child = subprocess.Popen(  # noqa: S603 - argv built by the stack, no shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    return ManagedProcess(name, child.pid, port, marker, str(log_path)), child


def wait_until_listening(
    process: ManagedProcess,
    child: subprocess.Popen[bytes] | None,
    host: str,
    timeout_s: float = 30.0,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            raise StackError(
                f"{process.name} exited with status {child.returncode} while starting: "
                f"{last_lines(Path(process.log))}"
            )
        if port_open(host, process.port):
            return
        time.sleep(0.05)
    raise StackError(f"{process.name} did not listen on {host}:{process.port} in {timeout_s} s")


def last_lines(path: Path, count: int = 3) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "(no log)"
    return " | ".join(lines[-count:]) or "(empty log)"


def stop(process: ManagedProcess, timeout_s: float = 10.0) -> bool:
    """SIGTERM the process group we started, SIGKILL it after ``timeout_s``.

    Returns False when the PID no longer belongs to our process (nothing is signalled then).
    """
    if not process.is_running():
        return False
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.is_running():
            _reap(process.pid)
            return True
        _reap(process.pid)
        time.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)
    _reap(process.pid)
    return True


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError as error:
        raise StackError(f"not allowed to signal process group {pid}: {error}") from None


def _reap(pid: int) -> None:
    # Our own children become zombies until waited for; a process started by an earlier command
    # is not our child and waitpid says so.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
