-- grid.glycemic_episodes — grain: one row per episode: the rows of the glycemic_episodes mart
-- (the columns of sql/ddl/glycemic_episodes.sql, in order), as the grid-metrics Lambda found
-- them (${database}.grid_episodes_staging, the run's partition run_id).
SELECT
    patient_id,
    type,
    level,
    start_local,
    end_local,
    duration_min,
    extreme_mg_dl,
    mean_mg_dl,
    exclusive,
    period_end
FROM ${database}.grid_episodes_staging
WHERE run_id IN (${run_id})
