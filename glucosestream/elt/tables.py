"""The lake tables the ELT writes, and where they live in the lake bucket."""

from __future__ import annotations

from glucosestream.settings import ResourceNames

CURATED = "curated_readings"
CURATED_TREATMENTS = "curated_treatments"
DAILY = "patient_daily_metrics"
PERIOD = "patient_period_metrics"
AGP = "agp_profile"
EPISODES = "glycemic_episodes"
PERIOD_IGLU = "patient_period_metrics_iglu"
TABLES = (CURATED, CURATED_TREATMENTS, DAILY, PERIOD, AGP, EPISODES, PERIOD_IGLU)
GRID_METRICS_STAGING = "grid_metrics_staging"
GRID_EPISODES_STAGING = "grid_episodes_staging"
GRID_IGLU_STAGING = "grid_iglu_staging"
GRID_TABLES = (GRID_METRICS_STAGING, GRID_EPISODES_STAGING, GRID_IGLU_STAGING)
"""Work tables: the grid-metrics Lambda's outputs of a run, as Athena reads them."""


def table_prefix(names: ResourceNames, table: str) -> str:
    """The key prefix of a lake table (the bucket's layout: curated/<name>/ for curated_<name>,
    marts/<table>/)."""
    if table.startswith("curated_"):
        return f"{names.curated_prefix}{table.removeprefix('curated_')}/"
    return f"{names.marts_prefix}{table}/"
