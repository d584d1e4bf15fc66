-- ddl.patient_daily_metrics — grain: one row per (patient_id, local_day)
-- Written from sql/marts/patient_daily_metrics.sql (formulas there), partitioned by the
-- patient's LOCAL calendar day. LOCATION (s3://<lake bucket>/marts/patient_daily_metrics/) comes
-- from the settings, not from this file.
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
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.local_day.type' = 'date',
    'projection.local_day.format' = 'yyyy-MM-dd',
    'projection.local_day.range' = '2024-01-01,NOW',
    'projection.local_day.interval' = '1',
    'projection.local_day.interval.unit' = 'DAYS'
)
