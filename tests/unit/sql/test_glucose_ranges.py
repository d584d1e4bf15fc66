"""intermediate/glucose_ranges.sql on the local Athena (DuckDB): the consensus ranges of each
reading, at every boundary."""

from __future__ import annotations

import pyarrow as pa

from glucosestream.elt.marts import glucose_ranges_query
from glucosestream.local.athena import LocalAthena
from tests.unit.sql.period_readings import period_readings, utc

FLAGS = ("below_54", "below_70", "in_70_180", "in_70_140", "above_180", "above_250")
EXPECTED = {
    # glucose: below_54, below_70, in_70_180, in_70_140, above_180, above_250
    40.0: (True, True, False, False, False, False),
    53.9: (True, True, False, False, False, False),
    54.0: (False, True, False, False, False, False),
    69.9: (False, True, False, False, False, False),
    70.0: (False, False, True, True, False, False),
    140.0: (False, False, True, True, False, False),
    140.1: (False, False, True, False, False, False),
    180.0: (False, False, True, False, False, False),
    180.1: (False, False, False, False, True, False),
    250.0: (False, False, False, False, True, False),
    250.1: (False, False, False, False, True, True),
    400.0: (False, False, False, False, True, True),
}


def test_each_reading_has_its_ranges_and_one_without_glucose_none() -> None:
    readings = period_readings(
        [("p", utc(f"2026-01-05T08:{i:02d}:00"), 60, g) for i, g in enumerate(EXPECTED)]
    )
    without_glucose = period_readings([("p", utc("2026-01-05T09:00:00"), 60, 0.0)]).set_column(
        4, "glucose_mg_dl", pa.array([None], pa.float64())
    )
    engine = LocalAthena()
    engine.register("period_readings", pa.concat_tables([readings, without_glucose]))
    rows = engine.run(glucose_ranges_query(engine.database)).to_pylist()
    assert len(rows) == len(EXPECTED)
    for row in rows:
        assert tuple(row[flag] for flag in FLAGS) == EXPECTED[row["gl"]], row["gl"]
        assert row["local_time"].hour == 9  # the readings' columns pass through
