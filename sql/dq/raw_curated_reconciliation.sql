-- dq.raw_curated_reconciliation — grain: one row per dt partition whose curated row count differs
-- from its raw distinct identities (FAIL). Curated keeps exactly one row per (patient_id,
-- device_id, measured_at) of the raw rows of its dt (sql/curated/readings.sql), so per dt
-- partition listed in ${database}.dq_partitions: raw distinct identities = curated rows.
-- A dt present on one side only counts 0 on the other. Zero rows = pass.
WITH raw_identities AS (
    SELECT DISTINCT dt, patient_id, device_id, measured_at
    FROM ${database}.raw_readings
    WHERE dt IN (SELECT dt FROM ${database}.dq_partitions)
),

raw_counts AS (
    SELECT dt, count(*) AS raw_identities
    FROM raw_identities
    GROUP BY dt
),

curated_counts AS (
    SELECT dt, count(*) AS curated_rows
    FROM ${database}.curated_readings
    WHERE dt IN (SELECT dt FROM ${database}.dq_partitions)
    GROUP BY dt
),

compared AS (
    SELECT
        coalesce(r.dt, c.dt) AS dt,
        coalesce(r.raw_identities, 0) AS raw_identities,
        coalesce(c.curated_rows, 0) AS curated_rows
    FROM raw_counts AS r
    FULL OUTER JOIN curated_counts AS c ON r.dt = c.dt
)

SELECT dt AS failing_key, raw_identities, curated_rows, dt
FROM compared
WHERE raw_identities <> curated_rows
ORDER BY failing_key
