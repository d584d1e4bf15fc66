-- ddl.grid_episodes_staging — grain: one row per (episode, run_id)
-- What the grid-metrics Lambda wrote for one pipeline run (glucosestream.elt.grid_batch: the
-- episodes of each patient, EPISODES_SCHEMA), read by sql/grid/glycemic_episodes.sql. Work
-- data, not a mart: each run's partition run_id=<run> is published from the run's output prefix
-- (s3://<lake bucket>/work/grid/<run>/output/episodes/run_id=<run>/) before the marts read it
-- and dropped after. LOCATION comes from the settings, not from this file.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.grid_episodes_staging (
    patient_id STRING,
    type STRING,
    level STRING,
    start_local TIMESTAMP,
    end_local TIMESTAMP,
    duration_min BIGINT,
    extreme_mg_dl DOUBLE,
    mean_mg_dl DOUBLE,
    exclusive BOOLEAN,
    period_end DATE
)
PARTITIONED BY (run_id STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD'
)
