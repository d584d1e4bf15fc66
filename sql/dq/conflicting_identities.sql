-- dq.conflicting_identities — grain: one row per reading identity whose raw copies disagree (WARN)
-- Identity = (patient_id, device_id, measured_at) (DESIGN §3). Copies of one identity are
-- redeliveries and must carry the same glucose; curated keeps the earliest produced copy
-- (sql/curated/readings.sql). Copies with different glucose values are a conflict — a device
-- clock error, two sensors under one device id, a mis-resolved local time in an import — which
-- the dedupe would otherwise resolve without a word: each is reported here with its values.
-- Zero rows = pass.
WITH source AS (
    SELECT patient_id, device_id, measured_at, glucose_mg_dl, dt
    FROM ${database}.raw_readings
    WHERE dt IN (${partitions})
        AND patient_id IS NOT NULL
        AND device_id IS NOT NULL
        AND measured_at IS NOT NULL
)

SELECT
    patient_id || '|' || device_id || '|' || date_format(measured_at, '%Y-%m-%dT%H:%i:%s')
    || ' (' || CAST(min(glucose_mg_dl) AS VARCHAR) || ' vs ' || CAST(max(glucose_mg_dl) AS VARCHAR)
    || ' mg/dL)' AS failing_key,
    count(DISTINCT glucose_mg_dl) AS distinct_values,
    dt
FROM source
GROUP BY patient_id, device_id, measured_at, dt
HAVING count(DISTINCT glucose_mg_dl) > 1
ORDER BY failing_key
