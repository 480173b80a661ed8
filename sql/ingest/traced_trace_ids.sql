-- traced_trace_ids: the traces of the counted span calls in `_traced`
-- (find_traced_requests), whose attribution is re-resolved after the merge.
-- params: none
-- grain: one row per trace id
SELECT DISTINCT trace_id FROM _traced
