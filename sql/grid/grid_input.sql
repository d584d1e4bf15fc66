-- grid.grid_input — grain: one row per reading of ${database}.period_readings (the 14-day
-- window of sql/curated/period_readings.sql, its columns), with the chunk of patients it belongs
-- to: the staging input of the grid-metrics Distributed Map, unloaded with
-- partitioned_by = ARRAY['chunk'] (docs/adr/0003-grid-metrics-on-aws.md).
-- chunk is a stable hash bucket of patient_id, so every reading of a patient is in one chunk:
-- the first 6 hex digits of md5(patient_id), as a number, modulo the run's chunk_count (from
-- ${database}.grid_constants, a constant the run computed from its patient count). Only
-- functions both engines have and agree on: Trino's xxhash64, from_big_endian_64 and from_base
-- do not exist in DuckDB, so the digits are read one by one with strpos (integers only).
-- chunks (execution parameters) selects this statement's chunks: one UNLOAD writes at most 100
-- partitions.
WITH source AS (
    SELECT
        patient_id,
        device_id,
        measured_at,
        local_time,
        glucose_mg_dl,
        lower(to_hex(md5(to_utf8(patient_id)))) AS digest
    FROM ${database}.period_readings
),

hashed AS (
    SELECT
        patient_id,
        device_id,
        measured_at,
        local_time,
        glucose_mg_dl,
        (strpos('0123456789abcdef', substr(digest, 1, 1)) - 1) * 1048576
        + (strpos('0123456789abcdef', substr(digest, 2, 1)) - 1) * 65536
        + (strpos('0123456789abcdef', substr(digest, 3, 1)) - 1) * 4096
        + (strpos('0123456789abcdef', substr(digest, 4, 1)) - 1) * 256
        + (strpos('0123456789abcdef', substr(digest, 5, 1)) - 1) * 16
        + (strpos('0123456789abcdef', substr(digest, 6, 1)) - 1) AS bucket
    FROM source
),

chunked AS (
    SELECT
        h.patient_id,
        h.device_id,
        h.measured_at,
        h.local_time,
        h.glucose_mg_dl,
        mod(h.bucket, CAST(k.chunk_count AS BIGINT)) AS chunk
    FROM hashed AS h
    CROSS JOIN ${database}.grid_constants AS k
)

SELECT
    patient_id,
    device_id,
    measured_at,
    local_time,
    glucose_mg_dl,
    chunk
FROM chunked
WHERE chunk IN (${chunks})
