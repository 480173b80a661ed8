-- find_traced_requests: the request ids in `_claims` (decide_claims) that have a counted
-- span call, with that call and its trace. The statements after it join this small
-- table.
-- params: none
-- grain: one row per request id with a counted claim
CREATE OR REPLACE TEMP TABLE _traced AS
SELECT request_id, trace_id, call_id
FROM _claims
WHERE status = 'counted';
