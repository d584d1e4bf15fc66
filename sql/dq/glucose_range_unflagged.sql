-- dq.glucose_range_unflagged — grain: one row per curated reading outside the sensor range
-- without its status flag (FAIL). Sensors report min_glucose_mg_dl..max_glucose_mg_dl
-- (${database}.dq_thresholds: 40-400 mg/dL, DESIGN §3); a value below must carry status
-- BELOW_SENSOR_RANGE, a value above ABOVE_SENSOR_RANGE ("flagged, never clipped silently").
-- Curated readings of the dt partitions in the run's partitions (execution parameters). Zero rows = pass.
WITH source AS (
    SELECT patient_id, device_id, measured_at, glucose_mg_dl, status, dt
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions}) AND glucose_mg_dl IS NOT NULL
)

SELECT
    s.patient_id || '|' || s.device_id || '|'
    || date_format(s.measured_at, '%Y-%m-%dT%H:%i:%s') AS failing_key,
    s.glucose_mg_dl,
    s.status,
    s.dt
FROM source AS s
CROSS JOIN ${database}.dq_thresholds AS t
WHERE
    (
        CAST(s.glucose_mg_dl AS DOUBLE) < t.min_glucose_mg_dl
        AND coalesce(s.status, '') <> 'BELOW_SENSOR_RANGE'
    )
    OR (
        CAST(s.glucose_mg_dl AS DOUBLE) > t.max_glucose_mg_dl
        AND coalesce(s.status, '') <> 'ABOVE_SENSOR_RANGE'
    )
ORDER BY failing_key
