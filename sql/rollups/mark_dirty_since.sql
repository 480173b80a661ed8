-- mark_dirty_since: queue for rewrite every hour holding a call written, rewritten or
-- deleted after the watermark. Late rows (hours or days late), attribution fix-ups, merges
-- and profile resolutions all take a new write_seq, so only their own hours are redone.
-- params: $watermark = the largest write_seq already rolled up (BIGINT)
-- grain: hour
INSERT OR IGNORE INTO rollup_dirty
SELECT DISTINCT 'hour', date_trunc('hour', ts) FROM llm_calls WHERE write_seq > $watermark
UNION
SELECT DISTINCT 'hour', date_trunc('hour', ts) FROM llm_call_deletions WHERE write_seq > $watermark;
