-- claims_moving: how many claims in `_claims` (decide_claims) are, or were, not counted.
-- Zero (the usual case) means no llm_calls row has to move to or from held_calls.
SELECT count(*) FROM _claims WHERE status <> 'counted' OR old_status <> 'counted';
