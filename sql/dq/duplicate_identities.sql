-- dq.duplicate_identities — grain: one row per reading identity with > 1 curated row (FAIL)
-- Identity = (patient_id, device_id, measured_at) (DESIGN §3); curated readings keep exactly one
-- row per identity (sql/curated/readings.sql). A duplicate always shares its original's dt, so
-- checking the dt partitions in the run's partitions (execution parameters) one run at a time is exact.
-- Zero rows = pass.
WITH source AS (
    SELECT patient_id, device_id, measured_at, dt
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions})
)

SELECT
    coalesce(patient_id, '<null>') || '|' || coalesce(device_id, '<null>') || '|'
    || coalesce(date_format(measured_at, '%Y-%m-%dT%H:%i:%s'), '<null>') AS failing_key,
    count(*) AS curated_rows,
    dt
FROM source
GROUP BY patient_id, device_id, measured_at, dt
HAVING count(*) > 1
ORDER BY failing_key
