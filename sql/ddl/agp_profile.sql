-- ddl.agp_profile — grain: one row per (patient_id, slot, period_end)
-- The AGP modal day of the 14-day window ending at period_end (sql/marts/agp_profile.sql:
-- 15-minute slots of LOCAL time, percentiles 5/25/50/75/95). LOCATION
-- (s3://<lake bucket>/marts/agp_profile/) comes from the settings, not from this file.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.agp_profile (
    patient_id STRING,
    slot INT,
    slot_start STRING,
    n_readings BIGINT,
    p05 DOUBLE,
    p25 DOUBLE,
    p50 DOUBLE,
    p75 DOUBLE,
    p95 DOUBLE
)
PARTITIONED BY (period_end DATE)
STORED AS PARQUET
