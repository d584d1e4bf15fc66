from __future__ import annotations

from stream.corruption import chattering
from stream.simulator import CohortConfig, simulate


def test_a_chattering_device_sends_each_reading_three_times_with_new_identities() -> None:
    deliveries = list(simulate(CohortConfig(patients=2, days=0.25, seed=3)))
    faulty = deliveries[0].reading.patient_id
    out = list(chattering(deliveries, {faulty}))
    others = [d for d in deliveries if d.reading.patient_id != faulty]
    mine = [d for d in deliveries if d.reading.patient_id == faulty]
    assert len(out) == len(others) + 3 * len(mine)
    echoed = [d.reading for d in out if d.reading.patient_id == faulty]
    assert (
        len({r.event_id for r in echoed})
        == len({r.event_id for r in (d.reading for d in mine)}) * 3
    )
    assert [d.reading for d in out if d.reading.patient_id != faulty] == [d.reading for d in others]
