-- dq.readings_per_patient_day — grain: one row per (patient_id, dt) with more sensor readings
-- (source CGM or IMPORT: the readings the marts count) than
-- the sensor cadence allows (FAIL). A 5-minute sensor gives 1440 / 5 = 288 readings a day;
-- max_readings_per_patient_day (${database}.dq_thresholds) = 288 * 1.1 leaves room for a sensor
-- change's overlap. More means duplicates or a clock fault that would bias time-in-range.
-- Days are the UTC dt partitions listed in the run's partitions (execution parameters) (a day is a full UTC date).
-- Zero rows = pass.
WITH source AS (
    SELECT patient_id, dt
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions}) AND source IN ('CGM', 'IMPORT')
),

daily AS (
    SELECT patient_id, dt, count(*) AS readings
    FROM source
    GROUP BY patient_id, dt
)

SELECT
    d.patient_id || '|' || d.dt AS failing_key,
    d.readings,
    t.max_readings_per_patient_day,
    d.dt
FROM daily AS d
CROSS JOIN ${database}.dq_thresholds AS t
WHERE CAST(d.readings AS DOUBLE) > t.max_readings_per_patient_day
ORDER BY failing_key
