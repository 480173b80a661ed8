-- 0004_tenant_isolation: who sent each span, and the span calls held out of llm_calls
-- because their Bedrock request is another span's or another tenant's (docs/schema.md).
-- One Bedrock request is one llm_calls row.
-- params: none

-- The ingest key that sent the span: the first 16 hex characters of sha256(key), never
-- the key itself; NULL when ingest is open. A span inherits attribution only from
-- ancestors sent with the same key, and trace/span ids stored by one sender are refused
-- from another.
ALTER TABLE spans ADD COLUMN sender_key VARCHAR;

-- Span calls naming a Bedrock request id (`aws.request_id`) that are not its counted
-- call, and why: another span claimed it first (duplicate), or the invocation log states
-- another tenant (tenant_mismatch) or account (account_mismatch). Rewritten by every merge
-- of the request id; a claim that becomes the counted one leaves the table.
CREATE TABLE request_id_conflicts (
    call_id             VARCHAR PRIMARY KEY, -- the claiming span's call (trace_id || span_id)
    request_id          VARCHAR NOT NULL,
    trace_id            VARCHAR NOT NULL,
    span_id             VARCHAR NOT NULL,
    sender_key          VARCHAR,             -- spans.sender_key of the claiming span
    claimed_tenant      VARCHAR,             -- tenant the span states itself (or its key's bound tenant)
    claimed_account     VARCHAR,             -- resource cloud.account.id of the span
    owner_tenant        VARCHAR,             -- tenant of the side that keeps the call
    reason              VARCHAR NOT NULL,    -- duplicate | tenant_mismatch | account_mismatch
    first_seen          TIMESTAMP NOT NULL
);

-- The llm_calls rows of the calls in request_id_conflicts, as they were, so a claim that
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
