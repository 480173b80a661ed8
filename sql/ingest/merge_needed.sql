-- merge_needed: one row if any request id in `_merge_ids(request_id)` has an invocation
-- log or more than one span call in llm_calls, none otherwise. A lone span call with no
-- log is already its request's one row, so the merge is skipped (most span batches).
-- (A held call always has a log or a counted rival, so held_calls need not be read.)
-- params: none
-- grain: at most one row
SELECT 1 FROM bedrock_invocations WHERE request_id IN (SELECT request_id FROM _merge_ids)
UNION ALL
SELECT 1 FROM llm_calls
WHERE trace_id IS NOT NULL AND request_id IN (SELECT request_id FROM _merge_ids)
GROUP BY request_id
HAVING count(*) > 1
LIMIT 1;
