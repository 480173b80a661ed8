-- decide_claims: for every claim of the request ids in `_merge_ids(request_id)`, whether
-- it is its request's one counted call. The invocation log is AWS's record of the
-- request: a claim that contradicts it (both state a tenant and they differ, or both
-- state an account and they differ) is a mismatch, and the call stays the log's. Of the
-- other claims the earliest written (claim_seq, then call_id) is counted and the rest are
-- duplicates. With no log every claim is eligible. `owner_tenant` names the side that
-- keeps the call. Grain: one row per claim.
CREATE OR REPLACE TEMP TABLE _claims AS
WITH c AS (
    SELECT c.call_id, c.request_id, c.trace_id, c.claimed_tenant, c.claim_seq,
           c.status AS old_status, c.owner_tenant AS old_owner, b.tenant AS log_tenant,
           CASE
               WHEN b.tenant IS NOT NULL AND c.claimed_tenant IS NOT NULL
                    AND b.tenant <> c.claimed_tenant THEN 'tenant_mismatch'
               WHEN b.account_id IS NOT NULL AND c.claimed_account IS NOT NULL
                    AND b.account_id <> c.claimed_account THEN 'account_mismatch'
           END AS mismatch
    FROM request_claims c
    LEFT JOIN bedrock_invocations b ON b.request_id = c.request_id
    WHERE c.request_id IN (SELECT request_id FROM _merge_ids)
), ranked AS (
    SELECT *,
           CASE WHEN mismatch IS NULL
                THEN row_number() OVER (PARTITION BY request_id, mismatch IS NULL
                                        ORDER BY claim_seq, call_id) END AS rank
    FROM c
), winners AS (
    SELECT request_id, claimed_tenant AS winner_tenant FROM ranked WHERE rank = 1
)
SELECT r.call_id, r.request_id, r.trace_id, r.old_status, r.old_owner,
       coalesce(r.mismatch, CASE WHEN r.rank = 1 THEN 'counted' ELSE 'duplicate' END) AS status,
       CASE WHEN r.mismatch IS NOT NULL THEN r.log_tenant
            WHEN r.rank > 1 THEN w.winner_tenant END AS owner_tenant
FROM ranked r
LEFT JOIN winners w ON w.request_id = r.request_id;
