"""grid/grid_input.sql: the stable hash bucket of patient_id that chunks the grid metrics' input,
and the staging step's UNLOAD statements (glucosestream.elt.grid_stage.stage_grid_input)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from glucosestream.elt.grid_stage import stage_grid_input
from glucosestream.elt.plan import EltPlan
from glucosestream.elt.ports import Lake
from glucosestream.lake.directory import LocalLakeStorage
from glucosestream.local.athena import LocalAthena, parse_unload, to_duckdb
from glucosestream.settings import load_settings
from glucosestream.warehouse.query_engine import Parameter, QueryResult
from glucosestream.warehouse.sql_text import bind, compose, constants_cte

PATIENTS = [f"p_{hashlib.sha256(str(n).encode()).hexdigest()[:20]}" for n in range(40)]
PATIENTS += ["", "Ünïcode patient", "x'; DROP TABLE t; --", "imported-Dexcom-42"]


def reference_chunk(patient_id: str, count: int) -> int:
    """The definition: the first 6 hex digits of md5(UTF-8 id), modulo the chunk count."""
    return int(hashlib.md5(patient_id.encode()).hexdigest()[:6], 16) % count


def chunks_in_duckdb(count: int, selected: Sequence[int]) -> dict[str, int]:
    engine = LocalAthena("gs_test_lake")
    at = datetime(2026, 1, 5, 8, tzinfo=UTC)
    wall = at.replace(tzinfo=None)
    engine.register(
        "period_readings",
        pa.table(
            {
                "patient_id": pa.array(PATIENTS, pa.string()),
                "device_id": pa.array(["d"] * len(PATIENTS), pa.string()),
                "measured_at": pa.array([at] * len(PATIENTS), pa.timestamp("ms", tz="UTC")),
                "local_time": pa.array([wall] * len(PATIENTS), pa.timestamp("ms")),
                "glucose_mg_dl": pa.array([100.0] * len(PATIENTS), pa.float64()),
            }
        ),
    )
    main = bind("grid/grid_input.sql", {"database": "gs_test_lake"}, {"chunks": list(selected)})
    constants = constants_cte({"chunk_count": float(count)})
    statement = compose(main, [("grid_constants", constants)], "gs_test_lake")
    (duck,) = to_duckdb(statement.sql)
    found = engine.connection.execute(duck, list(statement.parameters)).fetchall()
    columns = [d[0] for d in engine.connection.description]
    return {row[columns.index("patient_id")]: row[columns.index("chunk")] for row in found}


@pytest.mark.parametrize("count", [1, 3, 7, 100, 1000])
def test_the_chunk_is_the_md5_bucket_in_duckdb_through_sqlglot(count: int) -> None:
    found = chunks_in_duckdb(count, range(count))
    assert found == {p: reference_chunk(p, count) for p in PATIENTS}


def test_only_the_selected_chunks_are_returned() -> None:
    found = chunks_in_duckdb(5, [1, 3])
    assert found == {p: c for p in PATIENTS if (c := reference_chunk(p, 5)) in (1, 3)}


TRINO_FUNCTIONS = {"lower", "to_hex", "md5", "to_utf8", "strpos", "substr", "mod", "CAST"}
"""Every function grid_input.sql calls: Trino (Athena) functions, whose DuckDB translations by
sqlglot exist natively in DuckDB (the run above); Trino's xxhash64, from_big_endian_64 and
from_base would not run locally."""


def test_the_hash_calls_only_functions_both_engines_run() -> None:
    text = bind("grid/grid_input.sql", {"database": "d"}, {"chunks": [0]}).sql
    code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", code)) - {"IN", "AS"} == TRINO_FUNCTIONS
    assert "/" not in code  # integer arithmetic only (Trino's / truncates integers, DuckDB's not)


@dataclass
class RecordingEngine:
    """The query engine: the patient count says 250; the UNLOADs are recorded."""

    database: str = "gs_test_lake"
    statements: list[tuple[str, Sequence[Parameter]]] = field(default_factory=list)

    def execute(self, sql: str, parameters: Sequence[Parameter] = ()) -> QueryResult:
        self.statements.append((sql, parameters))
        return QueryResult("q", {"patients": [250]} if sql.startswith("SELECT") else {})


def test_more_than_100_chunks_are_staged_by_several_unloads(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path, env="test")
    storage = LocalLakeStorage(settings.lake_dir, settings.names.lake_bucket)
    storage.write_bytes("work/grid/r7/input/part-000/chunk=3/old.parquet", b"attempt 1")
    engine = RecordingEngine()
    lake = Lake(settings.names, storage, engine, None, None)  # type: ignore[arg-type]
    plan = EltPlan("r7", date(2026, 1, 18), [])
    grid = stage_grid_input(lake, plan, date(2026, 1, 18), per_chunk=2)
    assert (grid.patients, grid.chunks) == (250, 125)
    assert list(storage.list("work/grid/r7/")) == []  # the earlier attempt's input is gone
    unloads = [(sql, params) for sql, params in engine.statements if sql.startswith("UNLOAD")]
    assert len(unloads) == 2
    targets = [parse_unload(sql).location for sql, _ in unloads]
    assert targets == [f"s3://gs-test-lake/work/grid/r7/input/part-00{n}/" for n in (0, 1)]
    assert all(parse_unload(sql).partitioned_by == ("chunk",) for sql, _ in unloads)
    window = 16  # 14 local days read 16 dt partitions; then the 14 days
    assert [list(p[window + 14 :]) for _, p in unloads] == [
        list(range(100)),
        list(range(100, 125)),
    ]
    assert "CAST(125.0 AS DOUBLE) AS chunk_count" in unloads[0][0]
    assert grid.batch_input == {
        "metrics_prefix": "work/grid/r7/output/grid_metrics_staging/run_id=r7/",
        "episodes_prefix": "work/grid/r7/output/grid_episodes_staging/run_id=r7/",
        "iglu_prefix": "work/grid/r7/output/grid_iglu_staging/run_id=r7/",
        "period_start": "2026-01-05",
        "period_end": "2026-01-18",
    }
