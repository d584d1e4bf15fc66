-- ddl.raw_erasures — grain: one row per erasure of a reading as Firehose delivered it
-- (duplicates possible)
-- Erasures of readings (a Nightscout DELETE of entries), written by Firehose from the erasures
-- stream: raw/erasures/dt=YYYY-MM-DD/hour=HH/*.parquet, partitioned by the UTC date and hour of
-- the ERASED reading's measured_at, so that the ELT rebuilds the curated partition the reading
-- is in (sql/staging/readings.sql leaves out its copies produced at or before erased_at).
-- Columns are those of schemas/glucose_reading_erasure.glue.json (generated from the Avro
-- contract); timestamps are UTC. Partition projection as for raw_readings. LOCATION is
-- s3://<lake bucket>/raw/erasures/ (ResourceNames.raw_erasures_prefix).
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.raw_erasures (
    patient_id STRING,
    device_id STRING,
    measured_at TIMESTAMP,
    erased_at TIMESTAMP,
    requested_by STRING,
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
