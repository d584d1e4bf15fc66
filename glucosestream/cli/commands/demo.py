"""``glucosestream demo``: the main job on one machine (glucosestream.cli.demo runs it)."""

from __future__ import annotations

import argparse

from glucosestream.settings import Settings


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from glucosestream.cli.demo import DemoOptions, run_demo

    options = DemoOptions(
        patients=args.patients,
        days=args.days,
        seed=args.seed,
        speed=args.speed,
        duration_s=args.duration,
        pipeline_every_s=args.pipeline_every,
        dashboard_port=args.dashboard_port,
        api_port=args.api_port,
        consumer=args.consumer,
    )
    return run_demo(settings, options)
