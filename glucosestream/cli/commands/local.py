"""``glucosestream local up|down|status``: the one-machine AWS stack."""

from __future__ import annotations

import argparse
import json
from typing import Any

from glucosestream.settings import Settings


def cmd_local(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.local import stack

    if args.action == "up":
        status = stack.up(settings)
        for name, endpoint in status.endpoints.items():
            print(f"{name:>18}: {endpoint}")
        print(f"local stack is up (state in {settings.state_dir})")
    elif args.action == "down":
        stopped = stack.down(settings)
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing to stop")
    else:
        from glucosestream.local.balance import balance

        status = stack.status(settings)
        document: dict[str, Any] = dict(status.__dict__)
        if status.running:
            document["raw_zone"] = balance(settings).as_dict()
        print(json.dumps(document, indent=2))
        return 0 if status.running else 3
    return 0
