-- dq.timestamps_out_of_bounds — grain: one row per curated reading with an impossible time (FAIL)
-- Curated readings of the dt partitions in the run's partitions (execution parameters) whose measured_at is
--   future          later than the run's as_of (${database}.dq_run) + future_tolerance_minutes
--   after_produced  later than the device produced the record + future_tolerance_minutes
--   before_session  earlier than the start of its sensor session, taken as the session's first
--                   WARMUP reading (a session starts with warm-up, DESIGN §3) among the checked
--                   partitions; sessions without warm-up readings there are not judged
-- Tolerance (clock skew) from ${database}.dq_thresholds. Zero rows = pass.
WITH source AS (
    SELECT patient_id, device_id, session_id, measured_at, produced_at, is_warmup, dt
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions})
),

sessions AS (
    SELECT patient_id, device_id, session_id, min(measured_at) AS session_start
    FROM source
    WHERE is_warmup
    GROUP BY patient_id, device_id, session_id
),

judged AS (
    SELECT
        s.patient_id,
        s.device_id,
        s.measured_at,
        s.dt,
        CASE
            WHEN
                to_unixtime(s.measured_at)
                > to_unixtime(r.as_of) + t.future_tolerance_minutes * 60.0
                THEN 'future'
            WHEN
                to_unixtime(s.measured_at)
                > to_unixtime(s.produced_at) + t.future_tolerance_minutes * 60.0
                THEN 'after_produced'
            WHEN s.measured_at < x.session_start THEN 'before_session'
        END AS reason
    FROM source AS s
    CROSS JOIN ${database}.dq_thresholds AS t
    CROSS JOIN ${database}.dq_run AS r
    LEFT JOIN sessions AS x
        ON
            s.patient_id = x.patient_id
            AND s.device_id = x.device_id
            AND s.session_id = x.session_id
)

SELECT
    patient_id || '|' || device_id || '|'
    || date_format(measured_at, '%Y-%m-%dT%H:%i:%s') AS failing_key,
    reason,
    dt
FROM judged
WHERE reason IS NOT NULL
ORDER BY failing_key
