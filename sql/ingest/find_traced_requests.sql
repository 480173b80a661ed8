-- find_traced_requests: which request ids in `_merge_ids(request_id)` have a traced call
-- (an llm_calls row from a span), with its trace. One scan of llm_calls per merge; the
-- statements after it join this small table instead of scanning llm_calls again.
-- Grain: one row per traced call.
CREATE OR REPLACE TEMP TABLE _traced AS
SELECT l.request_id, l.trace_id
FROM llm_calls l
WHERE l.trace_id IS NOT NULL
  AND l.request_id IN (SELECT request_id FROM _merge_ids);
