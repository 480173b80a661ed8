-- record_uncounted_deletions: remember the llm_calls rows that drop_uncounted_calls is
-- about to delete (same condition), so the rollups re-process the windows they were in.
-- params: $1 = now (TIMESTAMP)
-- grain: one llm_call_deletions row per llm_calls row dropped
INSERT INTO llm_call_deletions (call_id, ts, deleted_at)
SELECT l.call_id, l.ts, $1
FROM llm_calls l
JOIN _claims c ON c.call_id = l.call_id
WHERE c.status <> 'counted';
