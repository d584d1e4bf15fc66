-- grid.patient_period_metrics — grain: one row per patient_id: the rows of the
-- patient_period_metrics mart (the columns of sql/ddl/patient_period_metrics.sql, in order).
-- The SQL metrics of sql/marts/patient_period_metrics.sql (read as
-- ${database}.period_sql_metrics, over the same period_readings) joined with the grid metrics
-- the grid-metrics Lambda computed from the same readings (${database}.grid_metrics_staging,
-- the run's partition run_id). Every patient with readings has both: the pipeline checks that
-- no patient is lost in the join.
SELECT
    s.patient_id,
    g.period_start,
    s.n_readings,
    s.days,
    g.active_percent,
    s.mean,
    s.median,
    s.sd,
    s.cv,
    s.gmi,
    s.ea1c,
    s.tbr_54,
    s.tbr_70,
    s.tir_70_180,
    s.titr_70_140,
    s.tar_180,
    s.tar_250,
    s.lbgi,
    s.hbgi,
    s.adrr,
    s.j_index,
    s.m_value,
    s.grade,
    s.gri,
    g.mag,
    g.modd,
    g.conga_1,
    g.conga_24,
    g.mage,
    g.hypo_lv1_episodes,
    g.hypo_lv2_episodes,
    g.hyper_lv1_episodes,
    g.hyper_lv2_episodes,
    g.period_end
FROM ${database}.period_sql_metrics AS s
INNER JOIN ${database}.grid_metrics_staging AS g ON s.patient_id = g.patient_id
WHERE g.run_id IN (${run_id})
