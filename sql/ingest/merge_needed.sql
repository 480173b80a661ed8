-- merge_needed: one row if any request id in `_merge_ids(request_id)` has an invocation
-- log or more than one claim, none otherwise. A lone claim with no log is already its
-- request's one row, so the merge is skipped (most span batches).
SELECT 1 FROM bedrock_invocations WHERE request_id IN (SELECT request_id FROM _merge_ids)
UNION ALL
SELECT 1 FROM request_claims
WHERE request_id IN (SELECT request_id FROM _merge_ids)
GROUP BY request_id
HAVING count(*) > 1
LIMIT 1;
