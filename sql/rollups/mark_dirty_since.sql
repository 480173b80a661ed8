-- mark_dirty_since: queue for rewrite every hour holding a call written after the watermark.
-- Late rows (hours or days late) and rows rewritten by attribution fix-ups have a new
-- ingested_at, so only their own hours are re-processed.
-- Parameters: $watermark (TIMESTAMP): the largest ingested_at already rolled up.
-- Grain: hour.
INSERT OR IGNORE INTO rollup_dirty
SELECT DISTINCT 'hour', date_trunc('hour', ts) FROM llm_calls WHERE ingested_at > $watermark;
