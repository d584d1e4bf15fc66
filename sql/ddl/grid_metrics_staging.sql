-- ddl.grid_metrics_staging — grain: one row per (patient_id, run_id)
-- What the grid-metrics Lambda wrote for one pipeline run (glucosestream.elt.grid_batch: the grid
-- columns of patient_period_metrics, GRID_METRICS_SCHEMA), read by sql/grid/
-- patient_period_metrics.sql. Work data, not a mart: each run's partition run_id=<run> is
-- published from the run's output prefix (s3://<lake bucket>/work/grid/<run>/output/
-- grid_metrics/run_id=<run>/) before the join and dropped after it. LOCATION comes from the
-- settings, not from this file.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.grid_metrics_staging (
    patient_id STRING,
    period_start DATE,
    active_percent DOUBLE,
    mag DOUBLE,
    modd DOUBLE,
    conga_1 DOUBLE,
    conga_24 DOUBLE,
    mage DOUBLE,
    hypo_lv1_episodes BIGINT,
    hypo_lv2_episodes BIGINT,
    hyper_lv1_episodes BIGINT,
    hyper_lv2_episodes BIGINT,
    period_end DATE
)
PARTITIONED BY (run_id STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD'
)
