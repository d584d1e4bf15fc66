-- marts.agp_profile — grain: one row per (patient_id, slot) over ${database}.period_readings
-- The Ambulatory Glucose Profile's modal day: all days of the period (the 14-day AGP window)
-- folded onto one day of the patient's LOCAL time (local_time = measured_at + utc_offset), in
-- 15-minute slots: slot = 4 * hour + floor(minute / 15), 0..95; slot_start its start 'HH:MM'.
-- Per slot the 5th, 25th, 50th, 75th and 95th percentiles of glucose (mg/dL) and the number of
-- readings. Only slots with readings have a row.
--   AGP percentile bands 5/25/50/75/95 — Johnson et al. 2019, "Utilizing the Ambulatory Glucose
--     Profile to Standardize and Implement Continuous Glucose Monitoring in Clinical Practice",
--     Diabetes Technol Ther 21(S2):S2-17, doi:10.1089/dia.2019.0034; Battelino et al. 2019,
--     doi:10.2337/dci19-0028
--   Percentile (exact, not approx_percentile): R's quantile() type 7, the default that iglu's
--     AGP plots use, = numpy.percentile(method="linear"). For the n readings of a slot sorted
--     x_1 <= ... <= x_n and p in [0, 1]: h = (n - 1) * p, j = floor(h), f = h - j,
--     Q(p) = x_(j+1) + f * (x_(j+2) - x_(j+1))   (f = 0 when j + 1 = n; n = 1 gives x_1).
--   100 * h = (n - 1) * percent is an exact integer, so j is exact and f (a remainder / 100 in
--   doubles) is the same on Trino and DuckDB; the order statistics come from row_number().
-- Written to mean the same in Trino (Athena) and DuckDB: doubles everywhere, no integer division.
WITH source AS (
    SELECT
        patient_id,
        4 * hour(local_time) + CAST(floor(CAST(minute(local_time) AS DOUBLE) / 15) AS INTEGER)
            AS slot,
        CAST(glucose_mg_dl AS DOUBLE) AS gl
    FROM ${database}.period_readings
    WHERE glucose_mg_dl IS NOT NULL
),

ranked AS (
    SELECT
        patient_id,
        slot,
        gl,
        row_number() OVER (PARTITION BY patient_id, slot ORDER BY gl) AS position
    FROM source
),

slots AS (
    SELECT patient_id, slot, count(*) AS n_readings
    FROM source
    GROUP BY patient_id, slot
),

levels AS (
    SELECT percent
    FROM (VALUES 5, 25, 50, 75, 95) AS t (percent)
),

scaled AS (
    -- 100 * h = (n - 1) * percent, an exact integer.
    SELECT s.patient_id, s.slot, l.percent, (s.n_readings - 1) * l.percent AS h_100
    FROM slots AS s
    CROSS JOIN levels AS l
),

targets AS (
    -- j = floor(h) (a double quotient of integers floors exactly); x_(j+1) is the lower neighbour.
    -- Never `/ 100.0`: in Trino that is a DECIMAL division, rounded to one decimal place.
    SELECT
        patient_id,
        slot,
        percent,
        CAST(floor(CAST(h_100 AS DOUBLE) / 100) AS BIGINT) + 1 AS lower_position,
        CAST(h_100 % 100 AS DOUBLE) / 100 AS fraction
    FROM scaled
),

bounds AS (
    SELECT
        t.patient_id,
        t.slot,
        t.percent,
        max(t.fraction) AS fraction,
        max(CASE WHEN r.position = t.lower_position THEN r.gl END) AS lower_value,
        max(CASE WHEN r.position = t.lower_position + 1 THEN r.gl END) AS upper_value
    FROM targets AS t
    INNER JOIN ranked AS r
        ON
            t.patient_id = r.patient_id
            AND t.slot = r.slot
            AND r.position BETWEEN t.lower_position AND t.lower_position + 1
    GROUP BY t.patient_id, t.slot, t.percent
),

percentiles AS (
    SELECT
        patient_id,
        slot,
        percent,
        -- upper_value is NULL only when x_(j+1) = x_n, where f = 0.
        lower_value + fraction * (coalesce(upper_value, lower_value) - lower_value) AS value
    FROM bounds
),

pivoted AS (
    SELECT
        patient_id,
        slot,
        max(CASE WHEN percent = 5 THEN value END) AS p05,
        max(CASE WHEN percent = 25 THEN value END) AS p25,
        max(CASE WHEN percent = 50 THEN value END) AS p50,
        max(CASE WHEN percent = 75 THEN value END) AS p75,
        max(CASE WHEN percent = 95 THEN value END) AS p95
    FROM percentiles
    GROUP BY patient_id, slot
)

SELECT
    s.patient_id,
    s.slot,
    lpad(CAST(CAST(floor(CAST(s.slot AS DOUBLE) / 4) AS INTEGER) AS VARCHAR), 2, '0')
    || ':'
    || lpad(CAST(15 * (s.slot % 4) AS VARCHAR), 2, '0') AS slot_start,
    s.n_readings,
    p.p05,
    p.p25,
    p.p50,
    p.p75,
    p.p95
FROM slots AS s
INNER JOIN pivoted AS p ON s.patient_id = p.patient_id AND s.slot = p.slot
ORDER BY s.patient_id, s.slot
