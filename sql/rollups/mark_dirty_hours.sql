-- mark_dirty_hours: queue for rewrite the hours holding the given call times. For writers
-- that delete llm_calls rows (a log-only row replaced by a merged row at another time):
-- a deleted row leaves no newer ingested_at behind, so its hour must be named.
-- Parameters: $ts (TIMESTAMP[]): start times of the deleted or moved calls. Grain: hour.
INSERT OR IGNORE INTO rollup_dirty
SELECT DISTINCT 'hour', date_trunc('hour', t) FROM unnest($ts::TIMESTAMP[]) AS u(t);
