-- curated.period_readings — grain: one row per reading identity measured on a LOCAL day of
-- ${database}.elt_local_days (one row per local_day: the days, or the 14-day window, a mart step
-- measures). The columns the marts in sql/marts/ read (as `glucosestream metrics` stages them):
-- patient_id, device_id, measured_at (UTC), local_time, glucose_mg_dl (double). Only readings
-- that count in metrics (see sql/staging/readings.sql). A local day spans the UTC dates
-- local_day - 1 .. local_day + 1, so ${database}.elt_partitions lists those dt partitions.
WITH source AS (
    SELECT patient_id, device_id, measured_at, local_time, glucose_mg_dl
    FROM ${database}.curated_readings
    WHERE
        dt IN (SELECT dt FROM ${database}.elt_partitions)
        AND counts_in_metrics
)

SELECT
    patient_id,
    device_id,
    measured_at,
    local_time,
    CAST(glucose_mg_dl AS DOUBLE) AS glucose_mg_dl
FROM source
WHERE CAST(local_time AS DATE) IN (SELECT local_day FROM ${database}.elt_local_days)
