-- insert_request_claims: the span calls in `_in_claims(call_id, request_id, trace_id,
-- span_id, claim_seq)` that name a Bedrock request id become claims of those requests,
-- with what their span in `_in_spans` states: sender key, own tenant and resource
-- `cloud.account.id`. A claim starts counted; merge_request_ids decides when a request
-- has rivals or a log. A retried span claims nothing new. Parameter: $1 = now.
-- Grain: one row per claiming span.
INSERT INTO request_claims BY NAME
SELECT c.call_id, c.request_id, c.trace_id, c.span_id, s.sender_key,
       s.own_tenant AS claimed_tenant,
       json_extract_string(s.resource_attributes, '$."cloud.account.id"') AS claimed_account,
       c.claim_seq, 'counted' AS status, $1 AS first_seen
FROM _in_claims c
JOIN _in_spans s ON s.trace_id = c.trace_id AND s.span_id = c.span_id
ON CONFLICT (call_id) DO NOTHING;
