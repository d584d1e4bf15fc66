-- dq.raw_curated_reconciliation — grain: one row per dt partition whose curated rows do not
-- reconcile with its raw rows (FAIL). Curated keeps exactly one row per reading identity
-- (patient_id, device_id, measured_at) of the raw rows of its dt (sql/curated/readings.sql): raw
-- distinct identities = curated rows. The raw zone keeps growing while a run works, so per dt
-- partition listed in the run's partitions (execution parameters) the check is exact on what the run must have
-- read, and race-free on what landed since:
--   missing      raw identities ingested before ${database}.dq_run.settled_before (the plan's
--                start less the Firehose buffering grace, reconciliation_grace_seconds: their
--                files existed when the curated rebuild ran) that are not in curated;
--   unexpected   curated identities that no raw row has;
--   surplus      curated rows beyond one per identity.
-- Raw rows without an identity never reach curated (missing_keys reports them). Zero rows = pass.
-- Erased copies (sql/staging/readings.sql) are not raw rows curated must hold: the erasures the
-- rebuild read — those ingested before settled_before — are applied here as there; a later one
-- is not (its reading is still, rightly, in curated until the next run).
WITH erasures AS (
    SELECT e.patient_id, e.device_id, e.measured_at, max(e.erased_at) AS erased_at
    FROM ${database}.raw_erasures AS e
    CROSS JOIN ${database}.dq_run AS q
    WHERE
        e.dt IN (${partitions})
        AND e.ingested_at <= q.settled_before
        AND e.erased_at IS NOT NULL
    GROUP BY e.patient_id, e.device_id, e.measured_at
),

raw_rows AS (
    SELECT r.dt, r.patient_id, r.device_id, r.measured_at, r.ingested_at
    FROM ${database}.raw_readings AS r
    LEFT JOIN erasures AS e
        ON
            r.patient_id = e.patient_id
            AND r.device_id = e.device_id
            AND r.measured_at = e.measured_at
    WHERE
        r.dt IN (${partitions})
        AND r.patient_id IS NOT NULL
        AND r.device_id IS NOT NULL
        AND r.measured_at IS NOT NULL
        AND (e.erased_at IS NULL OR r.produced_at > e.erased_at)
),

raw_identities AS (
    SELECT DISTINCT dt, patient_id, device_id, measured_at
    FROM raw_rows
),

settled_identities AS (
    SELECT DISTINCT r.dt, r.patient_id, r.device_id, r.measured_at
    FROM raw_rows AS r
    CROSS JOIN ${database}.dq_run AS q
    WHERE r.ingested_at <= q.settled_before
),

curated AS (
    SELECT dt, patient_id, device_id, measured_at
    FROM ${database}.curated_readings
    WHERE dt IN (${partitions})
),

missing AS (
    SELECT s.dt, count(*) AS missing
    FROM settled_identities AS s
    LEFT JOIN curated AS c
        ON
            s.dt = c.dt
            AND s.patient_id = c.patient_id
            AND s.device_id = c.device_id
            AND s.measured_at = c.measured_at
    WHERE c.patient_id IS NULL
    GROUP BY s.dt
),

unexpected AS (
    SELECT c.dt, count(*) AS unexpected
    FROM curated AS c
    LEFT JOIN raw_identities AS r
        ON
            c.dt = r.dt
            AND c.patient_id = r.patient_id
            AND c.device_id = r.device_id
            AND c.measured_at = r.measured_at
    WHERE r.patient_id IS NULL
    GROUP BY c.dt
),

copies AS (
    SELECT dt, patient_id, device_id, measured_at, count(*) AS copies
    FROM curated
    GROUP BY dt, patient_id, device_id, measured_at
),

surplus AS (
    SELECT dt, sum(copies - 1) AS surplus
    FROM copies
    GROUP BY dt
),

partitions AS (
    -- The run's partitions with a row (one without any raw or curated row reconciles).
    SELECT dt FROM raw_identities
    UNION
    SELECT dt FROM curated
),

compared AS (
    SELECT
        p.dt,
        coalesce(m.missing, 0) AS missing,
        coalesce(u.unexpected, 0) AS unexpected,
        coalesce(s.surplus, 0) AS surplus
    FROM partitions AS p
    LEFT JOIN missing AS m ON p.dt = m.dt
    LEFT JOIN unexpected AS u ON p.dt = u.dt
    LEFT JOIN surplus AS s ON p.dt = s.dt
)

SELECT dt AS failing_key, missing, unexpected, surplus, dt
FROM compared
WHERE missing > 0 OR unexpected > 0 OR surplus > 0
ORDER BY failing_key
