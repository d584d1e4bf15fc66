from __future__ import annotations

from glucosestream.local.balance import Balance


def test_verdicts() -> None:
    assert Balance(10, 8, 2, 1, 1).verdict == "balanced: in stream = raw rows + error records"
    assert Balance(10, 7, 2, 1, 1).verdict.startswith("1 pending")
    assert Balance(10, 9, 2, 1, 1).verdict.startswith("1 redelivered")
    assert Balance(10, 8, 2, 1, 1).as_dict()["landed"] == 10
