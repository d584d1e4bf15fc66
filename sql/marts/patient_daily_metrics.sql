-- marts.patient_daily_metrics — grain: one row per (patient_id, local_day) over
-- ${database}.glucose_ranges (sql/intermediate/glucose_ranges.sql over period_readings)
-- The consensus core per calendar day of the patient's LOCAL time: local_day is the DATE of
-- local_time (= measured_at + utc_offset), so a reading at 23:30 UTC in UTC+2 counts on the next
-- day. Same formulas as marts/patient_period_metrics.sql, applied per day. Glucose in mg/dL;
-- percentages 0-100 of the day's readings.
--   TBR <54, <70; TIR 70-180; TITR 70-140; TAR >180, >250: the share of readings in each range
--     of sql/intermediate/glucose_ranges.sql — Battelino et al. 2019, doi:10.2337/dci19-0028
--   GMI = 3.31 + 0.02392 * mean — Bergenstal et al. 2018, doi:10.2337/dc18-1581
--   CV = 100 * SD / mean, SD the sample standard deviation (NULL for a one-reading day)
--   min, max = the day's lowest and highest reading
-- Written to mean the same in Trino (Athena) and DuckDB: doubles everywhere, no integer division.
WITH source AS (
    SELECT
        patient_id,
        CAST(local_time AS DATE) AS local_day,
        gl,
        below_54,
        below_70,
        in_70_180,
        in_70_140,
        above_180,
        above_250
    FROM ${database}.glucose_ranges
),

aggregated AS (
    SELECT
        patient_id,
        local_day,
        count(*) AS n_readings,
        avg(gl) AS mean,
        stddev_samp(gl) AS sd,
        CAST(count_if(below_54) AS DOUBLE) * 100 / count(*) AS tbr_54,
        CAST(count_if(below_70) AS DOUBLE) * 100 / count(*) AS tbr_70,
        CAST(count_if(in_70_180) AS DOUBLE) * 100 / count(*) AS tir_70_180,
        CAST(count_if(in_70_140) AS DOUBLE) * 100 / count(*) AS titr_70_140,
        CAST(count_if(above_180) AS DOUBLE) * 100 / count(*) AS tar_180,
        CAST(count_if(above_250) AS DOUBLE) * 100 / count(*) AS tar_250,
        min(gl) AS min_gl,
        max(gl) AS max_gl
    FROM source
    GROUP BY patient_id, local_day
)

SELECT
    patient_id,
    local_day,
    n_readings,
    mean,
    sd,
    100 * sd / mean AS cv,
    tbr_54,
    tbr_70,
    tir_70_180,
    titr_70_140,
    tar_180,
    tar_250,
    3.31 + 0.02392 * mean AS gmi,
    min_gl AS min,
    max_gl AS max
FROM aggregated
ORDER BY patient_id, local_day
