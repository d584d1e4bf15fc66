"""``glucosestream settings``: the settings in force and every resource name they give."""

from __future__ import annotations

import argparse
import json

from glucosestream.settings import Settings


def cmd_settings(args: argparse.Namespace, settings: Settings) -> int:
    document = {
        "settings": json.loads(settings.model_dump_json()),
        "resource_names": settings.names.as_dict(),
    }
    print(json.dumps(document, indent=2, default=str))
    return 0
