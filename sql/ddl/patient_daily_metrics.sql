-- ddl.patient_daily_metrics — grain: one row per (patient_id, local_day)
-- Written from sql/marts/patient_daily_metrics.sql (formulas there), partitioned by the
-- patient's LOCAL calendar day. LOCATION (s3://<lake bucket>/marts/patient_daily_metrics/) comes
-- from the settings, not from this file.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.patient_daily_metrics (
    patient_id STRING,
    n_readings BIGINT,
    mean DOUBLE,
    sd DOUBLE,
    cv DOUBLE,
    tbr_54 DOUBLE,
    tbr_70 DOUBLE,
    tir_70_180 DOUBLE,
    titr_70_140 DOUBLE,
    tar_180 DOUBLE,
    tar_250 DOUBLE,
    gmi DOUBLE,
    min DOUBLE,
    max DOUBLE
)
PARTITIONED BY (local_day DATE)
STORED AS PARQUET
