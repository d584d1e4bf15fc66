-- grid.patient_period_metrics_iglu — grain: one row per (patient, metric): the rows of the
-- patient_period_metrics_iglu mart (the columns of sql/ddl/patient_period_metrics_iglu.sql, in
-- order), as the grid-metrics Lambda computed them (${database}.grid_iglu_staging, the run's
-- partition run_id).
SELECT
    patient_id,
    period_start,
    metric,
    value,
    period_end
FROM ${database}.grid_iglu_staging
WHERE run_id IN (${run_id})
