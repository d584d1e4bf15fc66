-- curated.treatments — grain: one row per treatment identity (patient_id, treatment_id)
-- The current version of each insulin or carbohydrate treatment, from ALL raw treatment rows:
-- a treatment's versions (an edit, a deletion) can fall in different dt partitions when its time
-- was moved, so the latest version is chosen over the whole raw table and only then restricted
-- to the dt partitions being rebuilt (the execution parameters). The latest version
-- is the one with the latest modified_at (then produced_at, ingested_at: a redelivered copy of
-- the same version is identical). Left out: a treatment whose latest version deletes it
-- (is_valid false) or gives neither insulin nor carbohydrate (an edit removed them), and rows
-- without their identity (they stay in raw). raw_rows counts the identity's raw rows (versions
-- and redelivered copies). local_time = treated_at + utc_offset_minutes (the patient's wall
-- clock). glucosestream.elt.curate composes it into one Athena UNLOAD per <= 100 partitions.
WITH versions AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY patient_id, treatment_id
            ORDER BY modified_at DESC, produced_at DESC, ingested_at DESC
        ) AS version_rank,
        count(*) OVER (PARTITION BY patient_id, treatment_id) AS raw_row_count
    FROM ${database}.raw_treatments
    WHERE patient_id IS NOT NULL
        AND treatment_id IS NOT NULL
        AND treated_at IS NOT NULL
        AND modified_at IS NOT NULL
)

SELECT
    treatment_id,
    patient_id,
    event_type,
    treated_at,
    utc_offset_minutes,
    date_add('minute', utc_offset_minutes, treated_at) AS local_time,
    insulin_units,
    carbs_g,
    entered_by,
    modified_at,
    produced_at,
    ingested_at,
    CAST(raw_row_count AS INTEGER) AS raw_rows,
    dt
FROM versions
WHERE version_rank = 1
    AND is_valid
    AND (insulin_units IS NOT NULL OR carbs_g IS NOT NULL)
    AND dt IN (${partitions})
