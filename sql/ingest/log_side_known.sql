-- log_side_known: one row if any request id in `_merge_ids(request_id)` has an
-- invocation-log side (a `bedrock_invocations` row or a log-only `llm_calls` row), none
-- otherwise. Without one, merging those ids changes nothing, so the merge is skipped.
SELECT 1 FROM bedrock_invocations WHERE request_id IN (SELECT request_id FROM _merge_ids)
UNION ALL
SELECT 1 FROM llm_calls
WHERE source = 'bedrock_log' AND request_id IN (SELECT request_id FROM _merge_ids)
LIMIT 1;
