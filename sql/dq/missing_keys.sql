-- dq.missing_keys — grain: one row per raw row of the run's dt partitions lacking a key (FAIL)
-- A reading's identity is (patient_id, device_id, measured_at) (DESIGN §3); event_id and
-- session_id are required by the contract too. Raw rows (duplicates included) of the partitions
-- listed in the run's partitions (execution parameters) with any of them NULL or blank fail: curated dedupes on the
-- identity, so NULL keys would silently merge there. Zero rows = pass.
WITH source AS (
    SELECT event_id, patient_id, device_id, session_id, measured_at, dt, hour
    FROM ${database}.raw_readings
    WHERE dt IN (${partitions})
)

SELECT
    coalesce(patient_id, '<null>') || '|' || coalesce(device_id, '<null>') || '|'
    || coalesce(date_format(measured_at, '%Y-%m-%dT%H:%i:%s'), '<null>') || '|'
    || coalesce(event_id, '<null>') AS failing_key,
    dt,
    hour
FROM source
WHERE
    event_id IS NULL OR trim(event_id) = ''
    OR patient_id IS NULL OR trim(patient_id) = ''
    OR device_id IS NULL OR trim(device_id) = ''
    OR session_id IS NULL OR trim(session_id) = ''
    OR measured_at IS NULL
ORDER BY failing_key
