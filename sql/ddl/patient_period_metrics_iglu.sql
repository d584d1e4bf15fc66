-- ddl.patient_period_metrics_iglu — grain: one row per (patient_id, metric, period_end)
-- Every output of every R iglu 4.3.0 metric function at its default arguments
-- (glucosestream.domain.metrics.iglu_profile: `glucosestream metrics --profile iglu`), over the
-- 14-day window ending at period_end. metric is iglu's name, <function>.<output> (e.g.
-- mean_glu.mean, summary_glu.1st Qu., episode_calculation.hypo_lv1.avg_ep_per_day); value is in
-- that metric's units (mg/dL, %, minutes, episodes per day ...; each module's docstring) and
-- null where R gives NA (too little data). Long, not wide: iglu's names are not column names.
-- LOCATION (s3://<lake bucket>/marts/patient_period_metrics_iglu/) comes from the settings.
-- No partition projection: the pipeline registers each partition in Glue at the prefix of its
-- published version (docs/adr/0004-atomic-publish.md); Athena prunes registered partitions.
CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.patient_period_metrics_iglu (
    patient_id STRING,
    period_start DATE,
    metric STRING,
    value DOUBLE
)
PARTITIONED BY (period_end DATE)
STORED AS PARQUET
