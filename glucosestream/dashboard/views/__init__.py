"""The dashboard's views, one module each: report, cohort (with privacy mode) and live."""
