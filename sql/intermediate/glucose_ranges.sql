-- intermediate.glucose_ranges — grain: one row per reading of ${database}.period_readings with a
-- glucose value (mg/dL, as a double: gl), flagged with the consensus glucose ranges it falls in.
-- The one place the range thresholds are written: the marts that measure time in ranges
-- (sql/marts/patient_daily_metrics.sql, sql/marts/patient_period_metrics.sql) read this query
-- as a CTE (glucosestream.warehouse.sql_text.compose) and count its flags.
--   TBR <54, <70 (cumulative); TIR 70-180 inclusive; TITR 70-140 inclusive; TAR >180, >250
--     (strict) — Battelino et al. 2019, doi:10.2337/dci19-0028
--   The GRI's very low / low / very high / high components are these ranges too (<54,
--     54-70, >250, 180-250) — Klonoff et al. 2022, doi:10.1177/19322968221085273
-- Written to mean the same in Trino (Athena) and DuckDB: doubles, plain comparisons.
WITH source AS (
    SELECT patient_id, measured_at, local_time, CAST(glucose_mg_dl AS DOUBLE) AS gl
    FROM ${database}.period_readings
    WHERE glucose_mg_dl IS NOT NULL
)

SELECT
    patient_id,
    measured_at,
    local_time,
    gl,
    gl < 54 AS below_54,
    gl < 70 AS below_70,
    gl >= 70 AND gl <= 180 AS in_70_180,
    gl >= 70 AND gl <= 140 AS in_70_140,
    gl > 180 AS above_180,
    gl > 250 AS above_250
FROM source
