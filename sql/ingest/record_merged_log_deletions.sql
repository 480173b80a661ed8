-- record_merged_log_deletions: remember the log-only rows that drop_merged_log_rows is
-- about to delete (same condition), so the rollups re-process the windows they were in.
-- params: $1 = now (TIMESTAMP)
-- grain: one llm_call_deletions row per log-only row replaced
INSERT INTO llm_call_deletions (call_id, ts, deleted_at)
SELECT call_id, ts, $1
FROM llm_calls
WHERE source = 'bedrock_log'
  AND request_id IN (SELECT request_id FROM _traced);
