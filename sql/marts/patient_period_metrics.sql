-- marts.patient_period_metrics — grain: one row per patient_id over ${database}.glucose_ranges
-- (sql/intermediate/glucose_ranges.sql over period_readings)
-- The consensus core and the variability/risk metrics that need no interpolated grid, exactly as
-- the R package iglu 4.3.0 computes them (grid metrics — CONGA, MODD, MAG, MAGE, active %,
-- episodes — come from glucosestream.domain.metrics). Glucose in mg/dL; percentages 0-100;
-- days in the patient's LOCAL time (local_time = measured_at + utc_offset).
--   TBR <54, <70; TIR 70-180; TITR 70-140; TAR >180, >250: the share of readings in each range
--     of sql/intermediate/glucose_ranges.sql — Battelino et al. 2019, doi:10.2337/dci19-0028
--   GMI = 3.31 + 0.02392 * mean — Bergenstal et al. 2018, doi:10.2337/dc18-1581
--   eA1c = (46.7 + mean) / 28.7 — Nathan et al. 2008, doi:10.2337/dc08-0545
--   CV = 100 * SD / mean, SD the sample standard deviation
--   bgi = ln(g)^1.084 - 5.381; LBGI = 22.77 * sum over g < 112.5 of min(bgi, 0)^2 / n;
--     HBGI = 22.77 * sum over g >= 112.5 of max(bgi, 0)^2 / n (bgi is still slightly negative
--     up to ~112.52 mg/dL: iglu selects by g, not by the sign of bgi)
--     — Kovatchev et al. 2006, doi:10.2337/dc06-1085 (22.77 = 10 * 1.509^2, as iglu rounds it)
--   ADRR = mean over local days of 22.77 * (max(max bgi, 0)^2 + min(min bgi, 0)^2) — same source
--   J-index = 0.001 * (mean + SD)^2 — Wojcicki 1995, doi:10.1055/s-2007-979906
--   M-value = 1000 * mean(|log10(g / 90)|^3) — Schlichtkrull et al. 1965,
--     doi:10.1111/j.0954-6820.1965.tb01810.x
--   GRADE = mean(min(425 * (log10(log10(g / 18)) + 0.16)^2, 50)) — Hill et al. 2007,
--     doi:10.1111/j.1464-5491.2007.02119.x
--   GRI = min(3.0 * VLow + 2.4 * Low + 1.6 * VHigh + 0.8 * High, 100) — Klonoff et al. 2022,
--     doi:10.1177/19322968221085273
-- Written to mean the same in Trino (Athena) and DuckDB: doubles everywhere, no integer division.
WITH source AS (
    SELECT
        patient_id,
        measured_at,
        local_time,
        gl,
        below_54,
        below_70,
        in_70_180,
        in_70_140,
        above_180,
        above_250
    FROM ${database}.glucose_ranges
),

value_counts AS (
    -- Per patient and distinct value: a sensor reports whole mg/dL, so a few hundred rows a
    -- patient. The metrics that are a mean of a function of the value alone (LBGI, HBGI,
    -- M-value, GRADE) and the median are computed from these counts: the logarithms and powers
    -- run once a value, not once a reading.
    SELECT patient_id, gl, count(*) AS copies
    FROM source
    GROUP BY patient_id, gl
),

scored AS (
    SELECT
        patient_id,
        gl,
        copies,
        power(ln(gl), 1.084) - 5.381 AS bgi
    FROM value_counts
),

ranked AS (
    -- The value gl holds the positions (through - copies, through] of the patient's readings
    -- in ascending order.
    SELECT
        patient_id,
        gl,
        copies,
        sum(copies) OVER (
            PARTITION BY patient_id ORDER BY gl ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS through,
        sum(copies) OVER (PARTITION BY patient_id) AS readings
    FROM value_counts
),

medians AS (
    -- Athena has only approx_percentile: the exact median is the mean of the values at
    -- positions floor((n + 1) / 2) and floor((n + 2) / 2): the middle one for odd n, the two
    -- middle ones for even n (one value when both hold it).
    SELECT patient_id, avg(gl) AS median
    FROM ranked
    WHERE
        (through - copies < floor((readings + 1) / 2.0) AND through >= floor((readings + 1) / 2.0))
        OR (through - copies < floor((readings + 2) / 2.0) AND through >= floor((readings + 2) / 2.0))
    GROUP BY patient_id
),

value_means AS (
    -- mean over readings of f(gl) = sum over values of copies * f(gl) / readings
    SELECT
        patient_id,
        22.77 * sum(CASE WHEN gl < 112.5 THEN copies * power(least(bgi, 0.0), 2) ELSE 0 END)
            / sum(copies) AS lbgi,
        22.77 * sum(CASE WHEN gl >= 112.5 THEN copies * power(greatest(bgi, 0.0), 2) ELSE 0 END)
            / sum(copies) AS hbgi,
        1000 * sum(copies * power(abs(log10(gl / 90)), 3)) / sum(copies) AS m_value,
        sum(copies * least(425 * power(log10(log10(gl / 18)) + 0.16, 2), 50.0)) / sum(copies)
            AS grade
    FROM scored
    GROUP BY patient_id
),

day_extremes AS (
    SELECT
        patient_id,
        CAST(local_time AS DATE) AS local_day,
        min(gl) AS lowest,
        max(gl) AS highest
    FROM source
    GROUP BY patient_id, CAST(local_time AS DATE)
),

daily AS (
    -- bgi rises with gl (from 1 mg/dL up), so a day's lowest and highest bgi are the bgi of its
    -- lowest and highest reading: the bgi of scored, two values a day.
    SELECT
        patient_id,
        22.77 * power(greatest(power(ln(highest), 1.084) - 5.381, 0.0), 2)
        + 22.77 * power(least(power(ln(lowest), 1.084) - 5.381, 0.0), 2) AS risk_range
    FROM day_extremes
),

adrr AS (
    SELECT patient_id, avg(risk_range) AS adrr
    FROM daily
    GROUP BY patient_id
),

aggregated AS (
    SELECT
        patient_id,
        count(*) AS n_readings,
        (to_unixtime(max(measured_at)) - to_unixtime(min(measured_at))) / 86400.0 AS days,
        avg(gl) AS mean,
        stddev_samp(gl) AS sd,
        CAST(count_if(below_54) AS DOUBLE) * 100 / count(*) AS tbr_54,
        CAST(count_if(below_70) AS DOUBLE) * 100 / count(*) AS tbr_70,
        CAST(count_if(in_70_180) AS DOUBLE) * 100 / count(*) AS tir_70_180,
        CAST(count_if(in_70_140) AS DOUBLE) * 100 / count(*) AS titr_70_140,
        CAST(count_if(above_180) AS DOUBLE) * 100 / count(*) AS tar_180,
        CAST(count_if(above_250) AS DOUBLE) * 100 / count(*) AS tar_250
    FROM source
    GROUP BY patient_id
)

SELECT
    a.patient_id,
    a.n_readings,
    a.days,
    a.mean,
    m.median,
    a.sd,
    100 * a.sd / a.mean AS cv,
    3.31 + 0.02392 * a.mean AS gmi,
    (46.7 + a.mean) / 28.7 AS ea1c,
    a.tbr_54,
    a.tbr_70,
    a.tir_70_180,
    a.titr_70_140,
    a.tar_180,
    a.tar_250,
    v.lbgi,
    v.hbgi,
    r.adrr,
    0.001 * power(a.mean + a.sd, 2) AS j_index,
    v.m_value,
    v.grade,
    least(
        3.0 * a.tbr_54 + 2.4 * (a.tbr_70 - a.tbr_54)
        + 1.6 * a.tar_250 + 0.8 * (a.tar_180 - a.tar_250),
        100.0
    ) AS gri
FROM aggregated AS a
INNER JOIN medians AS m ON a.patient_id = m.patient_id
INNER JOIN adrr AS r ON a.patient_id = r.patient_id
INNER JOIN value_means AS v ON a.patient_id = v.patient_id
ORDER BY a.patient_id
