-- claims_moving: how many claims in `_claims` (decide_claims) are not counted, or were
-- held. Zero (the usual case) means no row moves between llm_calls and held_calls and
-- request_id_conflicts is unchanged.
-- params: none
-- grain: one row (the count)
SELECT count(*) FROM _claims WHERE status <> 'counted' OR held;
