-- dq.sensor_wear — grain: one row per patient with too little sensor wear in the window (WARN)
-- Consensus data sufficiency (Battelino et al. 2019, doi:10.2337/dci19-0028): >= 70 % of the
-- possible CGM readings over 14 days. Window = the dt partitions listed in the window's partitions (execution parameters)
-- (wear_window_days UTC days ending at the run date); patients = those with a reading in the
-- run's partitions (the run's partitions (execution parameters)). Wear % = 100 * distinct cadence slots
-- (cadence_minutes) holding a metric reading / slots in the window; a patient below
-- min_wear_percent (${database}.dq_thresholds) is reported, not failed. Zero rows = pass.
WITH patients AS (
    SELECT DISTINCT patient_id
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions})
),

slots AS (
    SELECT DISTINCT
        c.patient_id,
        floor(to_unixtime(c.measured_at) / (t.cadence_minutes * 60.0)) AS slot
    FROM ${database}.curated_readings AS c
    CROSS JOIN ${database}.dq_thresholds AS t
    WHERE c.dt IN (${window_partitions}) AND c.counts_in_metrics
),

worn AS (
    SELECT p.patient_id, count(s.slot) AS slots_worn
    FROM patients AS p
    LEFT JOIN slots AS s ON p.patient_id = s.patient_id
    GROUP BY p.patient_id
),

scored AS (
    SELECT
        w.patient_id,
        100 * CAST(w.slots_worn AS DOUBLE)
        / (t.wear_window_days * 1440.0 / t.cadence_minutes) AS wear_percent,
        t.min_wear_percent
    FROM worn AS w
    CROSS JOIN ${database}.dq_thresholds AS t
)

SELECT patient_id AS failing_key, wear_percent, min_wear_percent
FROM scored
WHERE wear_percent < min_wear_percent
ORDER BY failing_key
