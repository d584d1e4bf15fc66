-- dq.late_data_ratio — grain: one row per dt partition with too many late readings (WARN)
-- A reading is late when it was ingested more than late_after_minutes after its measured_at
-- (the alert staleness bound, DESIGN §4: such readings never page). Per dt partition listed in
-- the run's partitions (execution parameters), late readings / curated readings above max_late_ratio
-- (${database}.dq_thresholds) is reported: the real-time alerts missed that share. Zero rows = pass.
WITH source AS (
    SELECT
        dt,
        to_unixtime(ingested_at) - to_unixtime(measured_at) AS delay_seconds
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions})
),

ratios AS (
    SELECT
        s.dt,
        CAST(count_if(s.delay_seconds > t.late_after_minutes * 60.0) AS DOUBLE)
        / CAST(count(*) AS DOUBLE) AS late_ratio,
        t.max_late_ratio
    FROM source AS s
    CROSS JOIN ${database}.dq_thresholds AS t
    GROUP BY s.dt, t.max_late_ratio
)

SELECT dt AS failing_key, late_ratio, max_late_ratio, dt
FROM ratios
WHERE late_ratio > max_late_ratio
ORDER BY failing_key
