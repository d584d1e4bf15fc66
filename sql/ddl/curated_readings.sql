-- ddl.curated_readings — grain: one row per reading identity (patient_id, device_id, measured_at)
-- Typed, deduplicated, flagged readings (sql/curated/readings.sql writes them), partitioned by
-- the UTC date of measured_at like the raw zone: a late reading lands in its event-time dt.
-- Glucose in mg/dL (glucose_mmol_l = mg/dL / 18.016 for display); local_time = measured_at +
-- utc_offset_minutes (the patient's wall clock, no zone). LOCATION (s3://<lake bucket>/curated/
-- readings/) comes from the settings, not from this file.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.curated_readings (
    event_id STRING,
    patient_id STRING,
    device_id STRING,
    session_id STRING,
    measured_at TIMESTAMP,
    utc_offset_minutes INT,
    local_time TIMESTAMP,
    glucose_mg_dl INT,
    glucose_mmol_l DOUBLE,
    status STRING,
    trend STRING,
    source STRING,
    in_sensor_range BOOLEAN,
    is_warmup BOOLEAN,
    counts_in_metrics BOOLEAN,
    produced_at TIMESTAMP,
    ingested_at TIMESTAMP,
    copies INT
)
PARTITIONED BY (dt STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD'
)
