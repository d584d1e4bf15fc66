"""`elt run` puts a failed state's cause on one console line."""

from __future__ import annotations

import pytest

from glucosestream.cli.commands.elt import cause_in_one_line
from glucosestream.local.pipeline_runner import failed_query_cause


@pytest.mark.parametrize(
    ("cause", "line"),
    [
        # An Athena .sync task's cause is the failed query execution, as JSON.
        (
            failed_query_cause("HIVE_CURSOR_ERROR: corrupt file s3://lake/raw/readings/x.parquet"),
            "HIVE_CURSOR_ERROR: corrupt file s3://lake/raw/readings/x.parquet",
        ),
        # A Lambda task's cause on AWS is the function's error as JSON.
        (
            '{"errorMessage": "month must be in 1..12", "errorType": "ValueError", '
            '"stackTrace": ["  File \\"plan.py\\", line 1"]}',
            "month must be in 1..12",
        ),
        # DuckDB follows its message with the statement and a caret.
        (
            "Invalid Input Error: No magic bytes found at end of file 'x.parquet'\n\n"
            "LINE 1: ... FROM read_parquet(['x.parquet'])\n            ^^^^",
            "Invalid Input Error: No magic bytes found at end of file 'x.parquet'",
        ),
        ("", "(no cause given)"),
    ],
)
def test_the_cause_is_the_original_message_on_one_line(cause: str, line: str) -> None:
    assert cause_in_one_line(cause) == line
