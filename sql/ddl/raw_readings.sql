-- ddl.raw_readings — grain: one row per reading as Firehose delivered it (duplicates possible)
-- The raw zone, written by Firehose (record format conversion to Parquet, dynamic partitioning
-- on the UTC date and hour of measured_at): raw/readings/dt=YYYY-MM-DD/hour=HH/*.parquet, never
-- rewritten. Columns and types are those of schemas/glucose_reading.glue.json (generated from
-- the Avro contract); all timestamps are UTC. Partition projection (no crawler, no
-- MSCK REPAIR): dt is a date projected from 2024-01-01 to NOW+1DAYS — a day ahead, so that a
-- reading from a device whose clock runs ahead stays visible to the data-quality check of
-- future timestamps instead of vanishing from every query — and hour an integer 00-23; the
-- storage location template is the Hive default (<LOCATION>/dt=.../hour=.../).
-- LOCATION is not in this file: it is s3://<lake bucket>/raw/readings/, derived from the
-- settings (ResourceNames.lake_bucket, raw_readings_prefix) by whoever creates the table, so
-- that the file is templated only with ${database}.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.raw_readings (
    event_id STRING,
    patient_id STRING,
    device_id STRING,
    session_id STRING,
    measured_at TIMESTAMP,
    utc_offset_minutes INT,
    glucose_mg_dl INT,
    status STRING,
    trend STRING,
    source STRING,
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
