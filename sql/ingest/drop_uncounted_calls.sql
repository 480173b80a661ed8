-- drop_uncounted_calls: a claim that is not counted (decide_claims) has no llm_calls
-- row, so each Bedrock request is counted once; its row waits in `held_calls`.
-- params: none
DELETE FROM llm_calls
WHERE call_id IN (SELECT call_id FROM _claims WHERE status <> 'counted');
