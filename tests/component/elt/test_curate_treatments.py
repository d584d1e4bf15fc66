"""Curated treatments (sql/curated/treatments.sql through glucosestream.elt.curate) over a local
lake of hand-made raw treatment versions: one row per treatment, its latest version, deletions
and edits that moved a treatment to another day applied."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from glucosestream.elt.curate import curate
from glucosestream.elt.plan import EltReport, commit, plan_run
from glucosestream.elt.tables import CURATED_TREATMENTS
from glucosestream.local.lake import local_lake
from glucosestream.settings import Settings
from tests.component.elt.rawdata import Version, ms, write_versions


def run(settings: Settings) -> tuple[EltReport, list[dict[str, Any]]]:
    lake = local_lake(settings)
    plan = plan_run(lake)
    report = EltReport(run_date=plan.run_date)
    curate(lake, plan, report)
    commit(lake, plan)
    columns = (
        local_lake(settings)
        .engine.execute(
            "SELECT treatment_id, insulin_units, carbs_g, local_time, raw_rows, dt "
            f"FROM {lake.database}.{CURATED_TREATMENTS} ORDER BY treatment_id"
        )
        .columns
    )
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    return report, [{name: columns[name][i] for name in names} for i in range(count)]


BOLUS = Version("bolus", ms("2024-03-01T07:30"), ms("2024-03-01T07:31"), insulin_units=4.5)
MEAL = Version("meal", ms("2024-03-01T12:00"), ms("2024-03-01T12:01"), carbs_g=60.0)
NOTE = Version("note", ms("2024-03-01T13:00"), ms("2024-03-01T13:01"), event_type="Note")
SNACK = Version("snack", ms("2024-03-01T23:50"), ms("2024-03-01T23:51"), carbs_g=15.0)


def test_one_row_per_treatment_its_latest_version(settings: Settings) -> None:
    write_versions(
        settings,
        "first",
        [
            BOLUS,
            BOLUS,  # redelivered: the same version twice
            MEAL,
            NOTE,  # neither insulin nor carbohydrate: not a curated treatment
            SNACK,
            # The meal edited: 55 g, not 60 (a later modified_at wins whatever the arrival order).
            replace(MEAL, carbs_g=55.0, modified_at=ms("2024-03-01T12:30")),
        ],
    )
    report, rows = run(settings)
    assert rows == [
        {
            "treatment_id": "bolus",
            "insulin_units": 4.5,
            "carbs_g": None,
            "local_time": datetime(2024, 3, 1, 8, 30),
            "raw_rows": 2,
            "dt": "2024-03-01",
        },
        {
            "treatment_id": "meal",
            "insulin_units": None,
            "carbs_g": 55.0,
            "local_time": datetime(2024, 3, 1, 13, 0),
            "raw_rows": 2,
            "dt": "2024-03-01",
        },
        {
            "treatment_id": "snack",
            "insulin_units": None,
            "carbs_g": 15.0,
            "local_time": datetime(2024, 3, 2, 0, 50),
            "raw_rows": 1,
            "dt": "2024-03-01",
        },
    ]
    assert (report.treatment_partitions, report.treatment_rows) == (["2024-03-01"], 3)


def test_a_moved_treatment_leaves_its_old_day_and_a_deleted_one_leaves_curated(
    settings: Settings,
) -> None:
    write_versions(settings, "first", [BOLUS, SNACK])
    run(settings)
    # The snack's time corrected to the next day (xDrip+'s PUT with a new time); the bolus
    # deleted. Neither version lands in the dt of its first version.
    moved = replace(SNACK, treated_at=ms("2024-03-02T00:10"), modified_at=ms("2024-03-02T08:00"))
    deleted = replace(BOLUS, is_valid=False, modified_at=ms("2024-03-02T08:00"))
    write_versions(settings, "second", [moved, deleted])
    report, rows = run(settings)
    assert [(r["treatment_id"], r["dt"], r["raw_rows"]) for r in rows] == [
        ("snack", "2024-03-02", 2)
    ]
    assert report.treatment_partitions == ["2024-03-01", "2024-03-02"]
    assert not (settings.lake_dir / "curated" / "treatments" / "dt=2024-03-01").exists()


def test_no_raw_treatment_changed_no_treatment_partition_rebuilt(settings: Settings) -> None:
    write_versions(settings, "first", [BOLUS])
    run(settings)
    report, rows = run(settings)
    assert report.treatment_partitions == []
    assert [r["treatment_id"] for r in rows] == ["bolus"]  # still published
