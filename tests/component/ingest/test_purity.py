"""The ingest core is pure: importing it loads no AWS SDK, Powertools or web server.

Checked in a fresh interpreter, so transitive imports count too.
"""

from __future__ import annotations

import json
import subprocess
import sys

PURE = [
    "glucosestream.ingest.units",
    "glucosestream.ingest.api.auth",
    "glucosestream.ingest.api.readings",
    "glucosestream.ingest.nightscout",
    "glucosestream.ingest.api.ratelimit",
    "glucosestream.ingest.api.documents",
    "glucosestream.ingest.api.nightscout_auth",
    "glucosestream.ingest.api.nightscout_v3",
    "glucosestream.ingest.nightscout_find",
    "glucosestream.ingest.nightscout_documents",
    "glucosestream.ingest.api.service",
    "glucosestream.ingest.files.formats",
    "glucosestream.ingest.api.schemas",
    "glucosestream.ingest.api.config",
]
FORBIDDEN = ("boto3", "botocore", "aws_lambda_powertools", "moto", "werkzeug", "requests")


def test_core_modules_load_nothing_impure() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {PURE!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True
        ).stdout
    )
    assert [m for m in loaded if m.split(".")[0] in FORBIDDEN] == []
    assert set(PURE) <= set(loaded)
