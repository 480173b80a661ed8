-- record_claim_status: write what decide_claims decided into `request_claims`, so
-- request_id_conflicts lists the claims that are not counted. Only changed rows.
UPDATE request_claims
SET status = c.status, owner_tenant = c.owner_tenant
FROM _claims c
WHERE request_claims.call_id = c.call_id
  AND (c.old_status, c.old_owner) IS DISTINCT FROM (c.status, c.owner_tenant);
