-- record_conflicts: the claims in `_claims` (decide_claims) that are not counted, listed
-- in request_id_conflicts with why; a claim listed before keeps its first_seen.
-- params: $1 = now (TIMESTAMP)
-- grain: one request_id_conflicts row per claim not counted
INSERT INTO request_id_conflicts BY NAME
SELECT call_id, request_id, trace_id, span_id, sender_key, claimed_tenant, claimed_account,
       owner_tenant, status AS reason, $1 AS first_seen
FROM _claims
WHERE status <> 'counted'
ON CONFLICT (call_id) DO UPDATE SET
    owner_tenant = excluded.owner_tenant, reason = excluded.reason;
