"""``glucosestream local up | down | status``: the AWS APIs on 127.0.0.1.

Kinesis is served by kinesalite (npm, LevelDB-backed, data under ``<state_dir>/kinesis``);
DynamoDB, SNS and SQS by one moto server. ``up`` is idempotent, ``down`` stops only the
processes ``up`` started (it checks each PID's command line before signalling it).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glucosestream.lake.durable_files import write_atomically
from glucosestream.local.persistence import export_state, import_state
from glucosestream.local.processes import (
    ManagedProcess,
    StackError,
    ensure_port_free,
    port_open,
    spawn,
    stop,
    wait_until_listening,
)
from glucosestream.local.provision import provision
from glucosestream.resources import project_path
from glucosestream.settings import Settings

KINESALITE_SCRIPT = Path(__file__).with_name("kinesalite_server.js")
NODE_MODULES = project_path("node_modules")
MOTO_SERVER = "glucosestream.local.moto_server"
"""moto's server with the routes and per-request savings of :mod:`~.local.moto_server`."""


@dataclass(frozen=True)
class StackStatus:
    running: bool
    processes: dict[str, dict[str, Any]]
    endpoints: dict[str, str]
    resources: dict[str, Any]


def status_file(settings: Settings) -> Path:
    return settings.state_dir / "stack.json"


def _read_status(settings: Settings) -> dict[str, Any] | None:
    path = status_file(settings)
    if not path.exists():
        return None
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise StackError(f"{path} is not valid JSON: remove it and run `local up` again") from None
    return loaded


def _managed(entry: dict[str, Any]) -> ManagedProcess:
    return ManagedProcess(**entry)


def _node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise StackError("Node.js 20+ is required for the local Kinesis (kinesalite): install node")
    if not (NODE_MODULES / "kinesalite").is_dir():
        raise StackError("kinesalite is not installed: run `make setup` (npm ci) first")
    return node


def up(settings: Settings) -> StackStatus:
    """Start whatever is not running, create every resource, write the status file."""
    current = _read_status(settings)
    processes: dict[str, ManagedProcess] = {}
    if current is not None:
        for name, entry in current["processes"].items():
            process = _managed(entry)
            if process.is_running():
                processes[name] = process

    state_dir = settings.state_dir
    log_dir = state_dir / "logs"
    host = settings.local_host
    started: list[ManagedProcess] = []
    try:
        if "kinesalite" not in processes:
            ensure_port_free(host, settings.kinesis_port, "GS_KINESIS_PORT")
            data_dir = state_dir / "kinesis"
            data_dir.mkdir(parents=True, exist_ok=True)
            process, child = spawn(
                "kinesalite",
                [
                    _node_binary(),
                    str(KINESALITE_SCRIPT),
                    "--host",
                    host,
                    "--port",
                    str(settings.kinesis_port),
                    "--path",
                    str(data_dir.resolve()),
                ],
                port=settings.kinesis_port,
                marker=str(KINESALITE_SCRIPT),
                log_dir=log_dir,
                env={"NODE_PATH": str(NODE_MODULES)},
            )
            started.append(process)
            wait_until_listening(process, child, host)
            processes["kinesalite"] = process
        if "moto" not in processes:
            ensure_port_free(host, settings.moto_port, "GS_MOTO_PORT")
            process, child = spawn(
                "moto",
                [sys.executable, "-m", MOTO_SERVER, "-H", host, "-p", str(settings.moto_port)],
                port=settings.moto_port,
                marker=MOTO_SERVER,
                log_dir=log_dir,
            )
            started.append(process)
            wait_until_listening(process, child, host)
            processes["moto"] = process
        resources = provision(settings)
        import_state(settings)
    except BaseException:
        for process in reversed(started):
            stop(process)
        raise

    endpoints = {
        "kinesis": str(settings.kinesis_endpoint),
        "dynamodb,sns,sqs": str(settings.moto_endpoint),
        "lake": str(settings.lake_dir.resolve()),
    }
    document: dict[str, Any] = {
        "env": settings.env,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "processes": {name: p.as_dict() for name, p in processes.items()},
        "endpoints": endpoints,
        "resources": resources.as_dict(),
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(status_file(settings), json.dumps(document, indent=2).encode(), durable=False)
    return StackStatus(True, document["processes"], endpoints, document["resources"])


def down(settings: Settings) -> list[str]:
    """Stop the processes ``up`` started; returns the names of those it stopped."""
    current = _read_status(settings)
    if current is None:
        return []
    moto = current["processes"].get("moto")
    if moto is not None and _managed(moto).is_running():
        export_state(settings)
    stopped = [
        name
        for name, entry in reversed(list(current["processes"].items()))
        if stop(_managed(entry))
    ]
    status_file(settings).unlink(missing_ok=True)
    return stopped


def status(settings: Settings) -> StackStatus:
    current = _read_status(settings)
    if current is None:
        return StackStatus(False, {}, {}, {})
    processes = {}
    for name, entry in current["processes"].items():
        process = _managed(entry)
        alive = process.is_running()
        processes[name] = {
            **entry,
            "running": alive,
            "listening": alive and port_open(settings.local_host, process.port),
        }
    running = bool(processes) and all(p["listening"] for p in processes.values())
    return StackStatus(running, processes, current["endpoints"], current["resources"])
