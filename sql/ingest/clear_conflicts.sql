-- clear_conflicts: a claim in `_claims` (decide_claims) that is now its request's counted
-- call is no longer a conflict.
-- params: none
DELETE FROM request_id_conflicts
WHERE call_id IN (SELECT call_id FROM _claims WHERE status = 'counted');
