-- ddl.grid_iglu_staging — grain: one row per (patient_id, metric, run_id)
-- What the grid-metrics Lambda wrote for one pipeline run (glucosestream.elt.grid_batch: each
-- patient's iglu profile, IGLU_SCHEMA, one row per metric), read by sql/grid/
-- patient_period_metrics_iglu.sql. Work data, not a mart: each run's partition run_id=<run> is
-- published from the run's output prefix (s3://<lake bucket>/work/grid/<run>/output/
-- grid_iglu_staging/run_id=<run>/) before the marts read it and dropped after. LOCATION comes
-- from the settings, not from this file.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.grid_iglu_staging (
    patient_id STRING,
    period_start DATE,
    metric STRING,
    value DOUBLE,
    period_end DATE
)
PARTITIONED BY (run_id STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD'
)
