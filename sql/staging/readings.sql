-- staging.readings — grain: one row per raw row (duplicates kept) of the dt partitions to rebuild
-- Typed readings of ${database}.raw_readings restricted to the dt partitions of one rebuild
-- (execution parameters: partition projection prunes on them). Glucose stays in mg/dL (mmol/L inputs are converted at ingest, DESIGN §4);
-- glucose_mmol_l = mg/dL / 18.016 as a double. local_time = measured_at + utc_offset_minutes
-- (the patient's wall clock; storage and partitions stay in UTC). Flags:
--   in_sensor_range   status is neither BELOW_SENSOR_RANGE nor ABOVE_SENSOR_RANGE (40-400 mg/dL)
--   is_warmup         status = WARMUP (the sensor's first hour(s))
--   counts_in_metrics a sensor reading with a value, not in warm-up or calibration: the readings
--                     the marts measure (out-of-range readings count, as the low/high they are).
--                     Sensor readings are source CGM (a live uploader) or IMPORT (a device's
--                     export read from a file: the same sensor values); BGM (meter) is not.
-- Erased readings (raw_erasures: a Nightscout DELETE of entries) are left out: every copy of a
-- reading produced at or before its latest erasure; a copy uploaded after it counts again. An
-- erasure lands in the dt of the reading it erases, so the same partitions are read.
-- Written to mean the same in Trino (Athena) and DuckDB: doubles, no integer division.
WITH erasures AS (
    SELECT
        patient_id,
        device_id,
        measured_at,
        max(erased_at) AS erased_at
    FROM ${database}.raw_erasures
    WHERE dt IN (${partitions})
        AND patient_id IS NOT NULL
        AND device_id IS NOT NULL
        AND measured_at IS NOT NULL
        AND erased_at IS NOT NULL
    GROUP BY patient_id, device_id, measured_at
),

source AS (
    SELECT
        r.event_id,
        r.patient_id,
        r.device_id,
        r.session_id,
        r.measured_at,
        r.utc_offset_minutes,
        r.glucose_mg_dl,
        r.status,
        r.trend,
        r.source,
        r.produced_at,
        r.ingested_at,
        r.dt
    FROM ${database}.raw_readings AS r
    LEFT JOIN erasures AS e
        ON
            r.patient_id = e.patient_id
            AND r.device_id = e.device_id
            AND r.measured_at = e.measured_at
    WHERE r.dt IN (${partitions})
        -- A reading without its identity cannot be deduplicated or attributed: it stays in raw,
        -- where the missing_keys data-quality check reports it, and never reaches curated.
        AND r.patient_id IS NOT NULL
        AND r.device_id IS NOT NULL
        AND r.measured_at IS NOT NULL
        AND (e.erased_at IS NULL OR r.produced_at > e.erased_at)
)

SELECT
    event_id,
    patient_id,
    device_id,
    session_id,
    measured_at,
    utc_offset_minutes,
    date_add('minute', utc_offset_minutes, measured_at) AS local_time,
    glucose_mg_dl,
    CAST(glucose_mg_dl AS DOUBLE) / CAST(18.016 AS DOUBLE) AS glucose_mmol_l,
    status,
    trend,
    source,
    coalesce(status NOT IN ('BELOW_SENSOR_RANGE', 'ABOVE_SENSOR_RANGE'), FALSE) AS in_sensor_range,
    coalesce(status = 'WARMUP', FALSE) AS is_warmup,
    coalesce(
        glucose_mg_dl IS NOT NULL
        AND source IN ('CGM', 'IMPORT')
        AND status NOT IN ('WARMUP', 'CALIBRATION'),
        FALSE
    ) AS counts_in_metrics,
    produced_at,
    ingested_at,
    dt
FROM source
