-- hold_uncounted_calls: copy the llm_calls rows of claims in `_claims` that are not
-- counted (decide_claims) into `held_calls`, as they are, before drop_uncounted_calls
-- removes them; a claim counted later is put back from there.
-- params: none
-- grain: one held_calls row per claim not counted
INSERT INTO held_calls BY NAME
SELECT l.*
FROM llm_calls l
JOIN _claims c ON c.call_id = l.call_id
WHERE c.status <> 'counted'
ON CONFLICT (call_id) DO NOTHING;
