-- restore_counted_calls: a held claim that is now its request's counted one (decide_claims)
-- gets its llm_calls row back, with a new write_seq so the rollups count it.
-- params: $1 = now (TIMESTAMP)
-- grain: one llm_calls row per held claim now counted
INSERT INTO llm_calls BY NAME
SELECT h.* EXCLUDE (write_seq, ingested_at), $1 AS ingested_at
FROM held_calls h
JOIN _claims c ON c.call_id = h.call_id
WHERE c.status = 'counted'
ON CONFLICT (call_id) DO NOTHING;
