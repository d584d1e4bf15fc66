-- ddl.raw_treatments — grain: one row per treatment version as Firehose delivered it (duplicates
-- possible)
-- The raw zone of treatments, written by Firehose from the treatments stream (record format
-- conversion to Parquet, dynamic partitioning on the UTC date and hour of treated_at):
-- raw/treatments/dt=YYYY-MM-DD/hour=HH/*.parquet, never rewritten. Columns and types are those of
-- schemas/glucose_treatment.glue.json (generated from the Avro contract); timestamps are UTC.
-- Each row is one version of a treatment (identity: patient_id, treatment_id): an edit or a
-- deletion (is_valid false) is a new row with a later modified_at. Partition projection as for
-- raw_readings. LOCATION is s3://<lake bucket>/raw/treatments/ (ResourceNames.raw_treatments_prefix).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.raw_treatments (
    treatment_id STRING,
    patient_id STRING,
    event_type STRING,
    treated_at TIMESTAMP,
    utc_offset_minutes INT,
    insulin_units DOUBLE,
    carbs_g DOUBLE,
    entered_by STRING,
    is_valid BOOLEAN,
    modified_at TIMESTAMP,
    produced_at TIMESTAMP,
    ingested_at TIMESTAMP
)
PARTITIONED BY (dt STRING, hour STRING)
STORED AS PARQUET
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.dt.type' = 'date',
    'projection.dt.format' = 'yyyy-MM-dd',
    'projection.dt.range' = '2024-01-01,NOW+1DAYS',
    'projection.dt.interval' = '1',
    'projection.dt.interval.unit' = 'DAYS',
    'projection.hour.type' = 'integer',
    'projection.hour.range' = '0,23',
    'projection.hour.digits' = '2'
)
