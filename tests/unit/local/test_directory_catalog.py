"""DirectoryCatalog, local mode's table catalog: the staging prefix beside the table (the same
name for every attempt, renamed into place), where each partition is, and the vacuum of dead
runs' leftovers."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from glucosestream.elt.tables import CURATED
from glucosestream.local.lake import LEFTOVER_AGE_S, local_lake, table_location
from glucosestream.settings import Settings


def test_staging_publish_locate_and_vacuum(settings: Settings) -> None:
    catalog = local_lake(settings).catalog
    bucket = f"s3://{settings.names.lake_bucket}/"

    staged = catalog.staging_prefix(CURATED, "run1", 2)
    assert staged == f"{bucket}curated/readings/.staging-run1-002/"
    assert catalog.staging_prefix(CURATED, "run1", 2) == staged  # a retry empties and reuses it

    directory = settings.lake_dir / staged[len(bucket) :] / "dt=2026-02-01"
    directory.mkdir(parents=True)
    rows = pa.table({"patient_id": ["p_001", "p_002"], "glucose_mg_dl": [112, 97]})
    pq.write_table(rows, directory / "part-run1-002-0.parquet")
    catalog.publish(CURATED, staged, [("2026-02-01",), ("2026-02-02",)])

    assert catalog.partition_locations(CURATED, [("2026-02-01",), ("2026-02-02",)]) == {
        ("2026-02-01",): f"{bucket}curated/readings/dt=2026-02-01/"
    }

    location = table_location(settings, CURATED)
    dead, busy = location / ".staging-dead-000", location / ".staging-busy-000"
    for leftover in (dead, busy):
        (leftover / "dt=2026-02-03").mkdir(parents=True)
    past = os.stat(dead).st_mtime - LEFTOVER_AGE_S - 60
    os.utime(dead, (past, past))
    assert catalog.vacuum(CURATED) == [f"{bucket}curated/readings/.staging-dead-000/"]
    assert busy.exists()  # may belong to a run still going
    assert (location / "dt=2026-02-01").is_dir()
