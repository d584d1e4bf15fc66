-- staging.csv_readings — grain: one row per reading identity (patient_id, device_id, measured_at)
-- Readings from an `id,time,gl` CSV (glucosestream metrics / episodes), deduplicated: the first
-- row of each identity in file order is kept, as every sink keeps the earliest copy.
WITH source AS (
    SELECT
        patient_id,
        device_id,
        measured_at,
        local_time,
        CAST(glucose_mg_dl AS DOUBLE) AS glucose_mg_dl,
        input_row
    FROM ${database}.csv_input
),

numbered AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY patient_id, device_id, measured_at ORDER BY input_row
        ) AS copy_number
    FROM source
)

SELECT patient_id, device_id, measured_at, local_time, glucose_mg_dl
FROM numbered
WHERE copy_number = 1
