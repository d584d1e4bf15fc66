"""What one ELT run does: which raw ``dt`` partitions changed since the last successful run
(the manifest of processed raw files), the plan the steps share, its report, and the commit
that records the run's raw files as processed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from glucosestream.elt.ports import Lake
from glucosestream.elt.publish import run_token
from glucosestream.lake.storage import LakeStorage, hidden_from_queries

STATE_KEY = "pipeline_state/elt.json"
"""The raw files the last successful run processed (a key of the lake)."""
STATE_VERSION = 1

RawListing = dict[str, dict[str, int]]
"""dt → {key relative to raw/readings/ (or raw/treatments/) → size in bytes}."""


@dataclass
class EltReport:
    """What one run did: partitions touched and rows written per step."""

    run_date: date | None
    raw_files_new: int = 0
    curated_partitions: list[str] = field(default_factory=list)
    """The ``dt`` partitions of curated readings rebuilt."""
    raw_rows: int = 0
    """Raw rows (duplicates included) of the rebuilt partitions."""
    curated_rows: int = 0
    """Rows now in the rebuilt partitions."""
    daily_days: list[str] = field(default_factory=list)
    """The ``local_day`` partitions of patient_daily_metrics replaced."""
    daily_rows: int = 0
    period_end: str | None = None
    """The ``period_end`` partition of the period marts replaced (None: not recomputed)."""
    period_rows: int = 0
    agp_rows: int = 0
    episode_rows: int = 0
    iglu_rows: int = 0
    """Rows of ``patient_period_metrics_iglu`` (patients x profile metrics) replaced."""
    treatment_partitions: list[str] = field(default_factory=list)
    """The ``dt`` partitions of curated treatments rebuilt."""
    treatment_rows: int = 0
    """Treatments now in those partitions."""
    step_seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per step (plan, curate, marts, grid_stage, grid_metrics, period_marts,
    commit), in the order they ran."""

    @property
    def touched_anything(self) -> bool:
        return bool(
            self.curated_partitions
            or self.treatment_partitions
            or self.daily_days
            or self.period_end
        )

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["run_date"] = self.run_date.isoformat() if self.run_date else None
        return values


# ------------------------------------------------------------------------ the raw manifest


def list_raw(storage: LakeStorage, prefix: str) -> RawListing:
    """Every visible raw Parquet file per ``dt`` (hidden temporaries are not data yet)."""
    listing: RawListing = {}
    for item in storage.list(prefix):
        parts = item.key[len(prefix) :].split("/")
        if (
            len(parts) != 3
            or not parts[0].startswith("dt=")
            or not parts[1].startswith("hour=")
            or not parts[2].endswith(".parquet")
            or any(hidden_from_queries(part) for part in parts)
        ):
            continue
        dt = parts[0][len("dt=") :]
        if dt not in listing:
            _check_partition_date(prefix, dt)
        listing.setdefault(dt, {})["/".join(parts)] = item.size
    return listing


def _check_partition_date(prefix: str, dt: str) -> None:
    """Refuse a ``dt`` that is no date, naming the partition: the bare ``ValueError`` of
    ``date.fromisoformat`` ("month must be in 1..12") does not say which directory to fix."""
    try:
        date.fromisoformat(dt)
    except ValueError as error:
        raise ValueError(
            f"raw partition {prefix}dt={dt}/ is not a date (YYYY-MM-DD): {error}"
        ) from None


@dataclass
class RawState:
    """The raw files of both raw tables, as one run saw them (or the last run processed)."""

    readings: RawListing = field(default_factory=dict)
    treatments: RawListing = field(default_factory=dict)
    erasures: RawListing = field(default_factory=dict)

    def as_document(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "raw": self.readings,
            "treatments": self.treatments,
            "erasures": self.erasures,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> RawState:
        if document.get("version") != STATE_VERSION:
            return cls()
        # A state saved before treatments and erasures reached the lake has none: all new.
        return cls(document["raw"], document.get("treatments", {}), document.get("erasures", {}))


def load_state(storage: LakeStorage) -> RawState:
    try:
        document = json.loads(storage.read_bytes(STATE_KEY))
    except FileNotFoundError:
        return RawState()
    return RawState.from_document(document)


def save_state(storage: LakeStorage, state: RawState) -> None:
    storage.write_bytes(STATE_KEY, json.dumps(state.as_document(), sort_keys=True).encode())


def changed_partitions(listing: RawListing, processed: RawListing) -> list[str]:
    """``dt`` partitions whose raw files differ from those processed (new, grown or gone)."""
    return sorted(
        dt for dt in listing.keys() | processed.keys() if listing.get(dt) != processed.get(dt)
    )


# ------------------------------------------------------------------------------------ the plan


@dataclass
class EltPlan:
    """What one run will do, decided at its start; JSON-serialisable so that each step of the
    Step Functions pipeline can be a separate invocation."""

    run_id: str
    run_date: date | None
    partitions: list[str]
    """The raw ``dt`` partitions that changed since the last committed run."""
    full_refresh: bool = False
    raw_files_new: int = 0
    treatment_partitions: list[str] = field(default_factory=list)
    """Every ``dt`` partition of curated treatments, when any raw treatment file changed (none
    otherwise): an edit can move a treatment to another day, so its old day is rebuilt too."""

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["run_date"] = self.run_date.isoformat() if self.run_date else None
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EltPlan:
        run_date = values.get("run_date")
        return cls(
            run_id=str(values["run_id"]),
            run_date=date.fromisoformat(run_date) if run_date else None,
            partitions=[str(p) for p in values["partitions"]],
            full_refresh=bool(values.get("full_refresh", False)),
            raw_files_new=int(values.get("raw_files_new", 0)),
            treatment_partitions=[str(p) for p in values.get("treatment_partitions", [])],
        )


def _snapshot_key(run_id: str) -> str:
    return f"pipeline_state/runs/{run_token(run_id)}.json"


def plan_run(
    lake: Lake,
    run_date: date | None = None,
    *,
    full_refresh: bool = False,
    run_id: str | None = None,
) -> EltPlan:
    """Find the changed partitions; snapshot the raw listing the run will commit as processed.

    Files that land after the snapshot are not in it, so the next run sees them as new even if
    this run's rebuild already read them (rebuilding a partition twice is idempotent).
    """
    listing = list_raw(lake.storage, lake.names.raw_readings_prefix)
    treatments = list_raw(lake.storage, lake.names.raw_treatments_prefix)
    erasures = list_raw(lake.storage, lake.names.raw_erasures_prefix)
    state = RawState() if full_refresh else load_state(lake.storage)
    processed = state.readings
    # An erasure lands in the dt of the reading it erases: that curated partition is rebuilt.
    changed = sorted(
        {*changed_partitions(listing, processed), *changed_partitions(erasures, state.erasures)}
    )
    treatments_changed = changed_partitions(treatments, state.treatments)
    if run_date is None and listing:
        run_date = date.fromisoformat(max(listing))
    plan = EltPlan(
        run_id=run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"),
        run_date=run_date,
        partitions=changed,
        full_refresh=full_refresh,
        raw_files_new=sum(
            1 for dt in changed for name in listing.get(dt, {}) if name not in processed.get(dt, {})
        ),
        treatment_partitions=(
            sorted(treatments.keys() | state.treatments.keys()) if treatments_changed else []
        ),
    )
    snapshot = json.dumps(
        RawState(listing, treatments, erasures).as_document(), sort_keys=True
    ).encode()
    lake.storage.write_bytes(_snapshot_key(plan.run_id), snapshot)
    return plan


def commit(lake: Lake, plan: EltPlan) -> None:
    """Record the plan's raw files as processed (last: a run that fails before is repeated)."""
    key = _snapshot_key(plan.run_id)
    save_state(lake.storage, RawState.from_document(json.loads(lake.storage.read_bytes(key))))
    lake.storage.delete([key])
