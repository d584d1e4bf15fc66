-- curated.period_readings — grain: one row per reading identity measured on one of the LOCAL
-- days a mart step measures (local_days: a chunk of days, or the 14-day window). The columns the marts in sql/marts/ read (as `glucosestream metrics` stages them):
-- patient_id, device_id, measured_at (UTC), local_time, glucose_mg_dl (double). Only readings
-- that count in metrics (see sql/staging/readings.sql). A local day spans the UTC dates
-- local_day - 1 .. local_day + 1, so those dt partitions are read (partitions). Both lists are
-- execution parameters; the marts read this query as a CTE (glucosestream.warehouse.sql_text.compose).
WITH source AS (
    SELECT patient_id, device_id, measured_at, local_time, glucose_mg_dl
    FROM ${database}.curated_readings
    WHERE
        dt IN (${partitions})
        AND counts_in_metrics
)

SELECT
    patient_id,
    device_id,
    measured_at,
    local_time,
    CAST(glucose_mg_dl AS DOUBLE) AS glucose_mg_dl
FROM source
WHERE CAST(local_time AS DATE) IN (${local_days})
