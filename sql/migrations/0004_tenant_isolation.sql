-- 0004_tenant_isolation: who sent each span, which spans claim which Bedrock request,
-- and the span calls held out of llm_calls because the request is another claim's or
-- another tenant's (docs/schema.md). One Bedrock request is one llm_calls row.

-- The ingest key that sent the span: the first 16 hex characters of sha256(key), never
-- the key itself; NULL when ingest is open. A span inherits attribution only from
-- ancestors sent with the same key, and trace/span ids stored by one sender are refused
-- from another.
ALTER TABLE spans ADD COLUMN sender_key VARCHAR;

-- Commit order of claims, one number per span batch written.
CREATE SEQUENCE request_claims_seq;

-- Every span call that names a Bedrock request id (`aws.request_id`). Kept whole so the
-- one row of each request can be recomputed from its claims and its invocation log in
-- either arrival order.
CREATE TABLE request_claims (
    call_id             VARCHAR PRIMARY KEY, -- the claiming span's call (trace_id || span_id)
    request_id          VARCHAR NOT NULL,
    trace_id            VARCHAR NOT NULL,
    span_id             VARCHAR NOT NULL,
    sender_key          VARCHAR,             -- spans.sender_key of the claiming span
    claimed_tenant      VARCHAR,             -- tenant the span states itself (or its key's bound tenant)
    claimed_account     VARCHAR,             -- resource cloud.account.id of the span
    claim_seq           BIGINT NOT NULL,     -- commit order (request_claims_seq): the earliest eligible claim is counted
    status              VARCHAR NOT NULL,    -- counted | duplicate | tenant_mismatch | account_mismatch
    owner_tenant        VARCHAR,             -- a conflict: tenant of the side that keeps the call
    first_seen          TIMESTAMP NOT NULL
);

-- Claims that are not counted, and why: another span was first (duplicate) or the
-- invocation log states another tenant or account (tenant_mismatch, account_mismatch).
CREATE VIEW request_id_conflicts AS
SELECT request_id, call_id, trace_id, span_id, sender_key, claimed_tenant, claimed_account,
       owner_tenant, status AS reason, first_seen
FROM request_claims
WHERE status <> 'counted';

-- The llm_calls rows of claims that are not counted, as they were, so a claim that
-- becomes the counted one (its rival turned out to contradict the log) is put back whole.
-- Same columns as llm_calls: a migration that adds one there adds it here.
CREATE TABLE held_calls (
    call_id             VARCHAR PRIMARY KEY,
    source              VARCHAR NOT NULL,
    ts                  TIMESTAMP NOT NULL,
    trace_id            VARCHAR,
    span_id             VARCHAR,
    request_id          VARCHAR,
    tenant              VARCHAR NOT NULL,
    route               VARCHAR NOT NULL,
    workflow            VARCHAR NOT NULL,
    feature             VARCHAR,
    user_id             VARCHAR,
    prompt_version      VARCHAR,
    environment         VARCHAR,
    operation           VARCHAR,
    provider            VARCHAR,
    request_model       VARCHAR,
    response_model      VARCHAR,
    model               VARCHAR,
    region              VARCHAR,
    inference_profile   VARCHAR,
    input_tokens        BIGINT,
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    output_tokens       BIGINT,
    reasoning_tokens    BIGINT,
    streaming           BOOLEAN,
    ttft_ms             DOUBLE,
    ttlt_ms             DOUBLE,
    otps                DOUBLE,
    status              VARCHAR NOT NULL,
    error_type          VARCHAR,
    finish_reason       VARCHAR,
    service_name        VARCHAR,
    account_id          VARCHAR,
    identity_arn        VARCHAR,
    inference_region    VARCHAR,
    ingested_at         TIMESTAMP NOT NULL,
    write_seq           BIGINT NOT NULL
);

-- Claims of the span calls stored before this migration, in the order they were
-- written, so the next merge of their request ids sees every claim.
INSERT INTO request_claims
SELECT l.call_id, l.request_id, l.trace_id, l.span_id, NULL, s.own_tenant,
       json_extract_string(s.resource_attributes, '$."cloud.account.id"'),
       nextval('request_claims_seq'), 'counted', NULL, l.ingested_at
FROM llm_calls l
LEFT JOIN spans s ON s.trace_id = l.trace_id AND s.span_id = l.span_id
WHERE l.trace_id IS NOT NULL AND l.span_id IS NOT NULL AND l.request_id IS NOT NULL;
