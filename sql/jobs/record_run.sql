-- record_run: one run of a scheduled or on-demand job, for `job_runs` (status, window,
-- error and which attempt it was).
-- params: $1 = job, $2 = started_at, $3 = finished_at, $4 = status, $5 = rows_written, $6 = window_start, $7 = window_end, $8 = error, $9 = attempt
-- grain: one row per job run.
INSERT INTO job_runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);
