-- ddl.glycemic_episodes — grain: one row per episode (patient_id, type, level, start_local)
-- Episodes of the 14-day window ending at period_end, from glucosestream.domain.metrics.episodes
-- (iglu's episode_calculation, Battelino 2023: lv1 hypo < 70, lv2 < 54, extended > 120 min
-- < 70; lv1 hyper > 180, lv2 > 250; >= 15 min in and out; gaps > 45 min split), the code the
-- `glucosestream episodes` command runs. Times are the patient's LOCAL wall clock (grid
-- instants); extreme_mg_dl is the nadir of a hypo and the peak of a hyper episode. An episode
-- running over the window's edges is cut there. LOCATION (s3://<lake bucket>/marts/
-- glycemic_episodes/) comes from the settings, not from this file.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.glycemic_episodes (
    patient_id STRING,
    type STRING,
    level STRING,
    start_local TIMESTAMP,
    end_local TIMESTAMP,
    duration_min BIGINT,
    extreme_mg_dl DOUBLE,
    mean_mg_dl DOUBLE,
    exclusive BOOLEAN
)
PARTITIONED BY (period_end DATE)
STORED AS PARQUET
