-- ddl.curated_treatments — grain: one row per treatment identity (patient_id, treatment_id)
-- The current version of every insulin or carbohydrate treatment (sql/curated/treatments.sql
-- writes them): the latest version by modified_at, deleted treatments left out, partitioned by
-- the UTC date of treated_at. Insulin in units (U), carbohydrate in grams; local_time =
-- treated_at + utc_offset_minutes (the patient's wall clock, no zone). LOCATION
-- (s3://<lake bucket>/curated/treatments/) comes from the settings, not from this file.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.curated_treatments (
    treatment_id STRING,
    patient_id STRING,
    event_type STRING,
    treated_at TIMESTAMP,
    utc_offset_minutes INT,
    local_time TIMESTAMP,
    insulin_units DOUBLE,
    carbs_g DOUBLE,
    entered_by STRING,
    modified_at TIMESTAMP,
    produced_at TIMESTAMP,
    ingested_at TIMESTAMP,
    raw_rows INT
)
PARTITIONED BY (dt STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'parquet.compression' = 'ZSTD'
)
