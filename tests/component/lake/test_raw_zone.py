"""The raw zone's transform Lambda, imported and run in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_the_transform_lambda_does_not_import_pyarrow() -> None:
    # The Lambda bundle stays small: pyarrow is for the local worker and the tests only.
    code = (
        "import sys, consumers.firehose_transform.handler as h; "
        "h.transform_event({'records': []}); "
        "sys.exit('pyarrow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()[-1000:]
