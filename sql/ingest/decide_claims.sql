-- decide_claims: for every claim in `_claim_rows` (find_claims), whether it is its
-- request's one counted call. The invocation log is AWS's record of the request: a claim
-- whose span contradicts it (both state a tenant and they differ, or both state an account
-- and they differ) is a mismatch, and the call stays the log's. Of the other claims the
-- first received (spans.received_at, then call_id) is counted and the rest are
-- duplicates. With no log every claim is eligible. A span states a tenant itself (or its
-- key's bound tenant: own_tenant) and an account as resource `cloud.account.id`.
-- `owner_tenant` names the side that keeps the call.
-- params: none
-- grain: one row per claim
CREATE OR REPLACE TEMP TABLE _claims AS
WITH s AS (
    -- the claims' spans: row ids from a scan of trace_id alone (collect_trace_spans)
    SELECT trace_id, span_id, sender_key, own_tenant, received_at, resource_attributes
    FROM spans
    WHERE rowid IN (SELECT rowid FROM spans WHERE trace_id IN (SELECT trace_id FROM _claim_rows))
), c AS (
    SELECT r.call_id, r.request_id, r.trace_id, r.span_id, r.held, s.sender_key,
           s.own_tenant AS claimed_tenant,
           json_extract_string(s.resource_attributes, '$."cloud.account.id"') AS claimed_account,
           s.received_at, b.tenant AS log_tenant, b.account_id AS log_account
    FROM _claim_rows r
    LEFT JOIN s ON s.trace_id = r.trace_id AND s.span_id = r.span_id
    LEFT JOIN bedrock_invocations b ON b.request_id = r.request_id
), judged AS (
    SELECT *,
           CASE
               WHEN log_tenant IS NOT NULL AND claimed_tenant IS NOT NULL
                    AND log_tenant <> claimed_tenant THEN 'tenant_mismatch'
               WHEN log_account IS NOT NULL AND claimed_account IS NOT NULL
                    AND log_account <> claimed_account THEN 'account_mismatch'
           END AS mismatch
    FROM c
), ranked AS (
    SELECT *,
           CASE WHEN mismatch IS NULL
                THEN row_number() OVER (PARTITION BY request_id, mismatch IS NULL
                                        ORDER BY received_at, call_id) END AS rank
    FROM judged
)
SELECT r.call_id, r.request_id, r.trace_id, r.span_id, r.held, r.sender_key,
       r.claimed_tenant, r.claimed_account,
       coalesce(r.mismatch, CASE WHEN r.rank = 1 THEN 'counted' ELSE 'duplicate' END) AS status,
       CASE WHEN r.mismatch IS NOT NULL THEN r.log_tenant
            WHEN r.rank > 1 THEN w.claimed_tenant END AS owner_tenant
FROM ranked r
LEFT JOIN ranked w ON w.request_id = r.request_id AND w.rank = 1;
