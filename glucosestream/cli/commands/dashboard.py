"""``glucosestream dashboard``: the Bokeh dashboard on 127.0.0.1."""

from __future__ import annotations

import argparse

from glucosestream.settings import Settings


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.dashboard.server import serve_until_interrupted

    return serve_until_interrupted(settings, args.port)
