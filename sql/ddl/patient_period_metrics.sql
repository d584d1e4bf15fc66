-- ddl.patient_period_metrics — grain: one row per (patient_id, period_end)
-- The AGP statistics of the 14-day window of LOCAL days [period_end - 13, period_end]: the
-- columns of sql/marts/patient_period_metrics.sql (formulas there) plus the grid metrics of
-- glucosestream.domain.metrics (active %, MAG, MODD, CONGA, MAGE, episode counts), exactly the
-- numbers `glucosestream metrics` gives for the same readings. Partitioned by period_end (the
-- run date). LOCATION (s3://<lake bucket>/marts/patient_period_metrics/) comes from the settings.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.patient_period_metrics (
    patient_id STRING,
    period_start DATE,
    n_readings BIGINT,
    days DOUBLE,
    active_percent DOUBLE,
    mean DOUBLE,
    median DOUBLE,
    sd DOUBLE,
    cv DOUBLE,
    gmi DOUBLE,
    ea1c DOUBLE,
    tbr_54 DOUBLE,
    tbr_70 DOUBLE,
    tir_70_180 DOUBLE,
    titr_70_140 DOUBLE,
    tar_180 DOUBLE,
    tar_250 DOUBLE,
    lbgi DOUBLE,
    hbgi DOUBLE,
    adrr DOUBLE,
    j_index DOUBLE,
    m_value DOUBLE,
    grade DOUBLE,
    gri DOUBLE,
    mag DOUBLE,
    modd DOUBLE,
    conga_1 DOUBLE,
    conga_24 DOUBLE,
    mage DOUBLE,
    hypo_lv1_episodes BIGINT,
    hypo_lv2_episodes BIGINT,
    hyper_lv1_episodes BIGINT,
    hyper_lv2_episodes BIGINT
)
PARTITIONED BY (period_end DATE)
STORED AS PARQUET
