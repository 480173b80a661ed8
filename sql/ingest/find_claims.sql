-- find_claims: the span calls that claim the request ids in `_merge_ids(request_id)`:
-- counted ones (their llm_calls row) and held ones (held_calls), one row per call.
-- params: none
-- grain: one row per claiming span call
CREATE OR REPLACE TEMP TABLE _claim_rows AS
SELECT DISTINCT ON (call_id) call_id, request_id, trace_id, span_id, held
FROM (
    SELECT call_id, request_id, trace_id, span_id, false AS held
    FROM llm_calls
    WHERE trace_id IS NOT NULL AND request_id IN (SELECT request_id FROM _merge_ids)
    UNION ALL
    SELECT call_id, request_id, trace_id, span_id, true AS held
    FROM held_calls
    WHERE request_id IN (SELECT request_id FROM _merge_ids)
)
ORDER BY call_id, held;
