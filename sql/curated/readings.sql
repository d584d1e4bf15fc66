-- curated.readings — grain: one row per reading identity (patient_id, device_id, measured_at)
-- Rebuilds a chunk of dt partitions from ALL their raw rows (${database}.staging_readings: the
-- query of sql/staging/readings.sql, composed in as a CTE): a duplicate always lands
-- in the same dt as its original (dt is the UTC date of measured_at, part of the identity), so
-- deduplicating one partition at a time is exact. Of each identity's copies the earliest produced
-- is kept (then the earliest ingested, then the lowest event_id/glucose, so the choice is
-- deterministic); copies counts them. A late reading is merged into its event-time dt.
-- glucosestream.elt.curate.curate_statement composes it with sql/staging/readings.sql into one Athena
-- UNLOAD per <= 100 partitions (the partition values as execution parameters) into a staging
-- prefix, whose partitions are then published.
WITH source AS (
    SELECT *
    FROM ${database}.staging_readings
),

numbered AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY patient_id, device_id, measured_at
            ORDER BY produced_at, ingested_at, event_id, glucose_mg_dl
        ) AS copy_number,
        count(*) OVER (PARTITION BY patient_id, device_id, measured_at) AS copy_count
    FROM source
)

SELECT
    event_id,
    patient_id,
    device_id,
    session_id,
    measured_at,
    utc_offset_minutes,
    local_time,
    glucose_mg_dl,
    glucose_mmol_l,
    status,
    trend,
    source,
    in_sensor_range,
    is_warmup,
    counts_in_metrics,
    produced_at,
    ingested_at,
    CAST(copy_count AS INTEGER) AS copies,
    dt
FROM numbered
WHERE copy_number = 1
