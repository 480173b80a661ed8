-- mark_all_dirty: queue every hour for rewrite (first run, forced rebuild, or re-pricing).
-- Hours that only exist in rollup_counts_1h are included so that rows whose calls are gone vanish.
-- params: none
-- grain: hour
INSERT OR IGNORE INTO rollup_dirty
SELECT 'hour', date_trunc('hour', ts) FROM llm_calls
UNION
SELECT 'hour', bucket FROM rollup_counts_1h;
