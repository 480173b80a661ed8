-- 0001_core: canonical tables for received spans and LLM calls (docs/schema.md).
-- All timestamps are UTC, stored as TIMESTAMP without zone. Unknown is NULL, never 0.
-- params: none

CREATE TABLE spans (
    trace_id            VARCHAR NOT NULL,   -- 32 lowercase hex chars
    span_id             VARCHAR NOT NULL,   -- 16 lowercase hex chars
    parent_span_id      VARCHAR,            -- NULL for a root span
    name                VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,   -- internal | server | client | producer | consumer | unspecified
    service_name        VARCHAR,
    scope_name          VARCHAR,            -- instrumentation scope: tells which producer sent it
    scope_version       VARCHAR,
    start_time          TIMESTAMP NOT NULL,
    end_time            TIMESTAMP NOT NULL,
    duration_ms         DOUBLE NOT NULL,
    status_code         VARCHAR NOT NULL,   -- unset | ok | error
    status_message      VARCHAR,
    attributes          JSON,
    resource_attributes JSON,
    events              JSON,
    -- attribution this span states itself (span attributes, then resource attributes,
    -- or the tenant bound to the ingest key); inherited values are resolved below
    own_tenant          VARCHAR,
    own_route           VARCHAR,
    own_workflow        VARCHAR,
    own_feature         VARCHAR,
    own_user_id         VARCHAR,
    own_prompt_version  VARCHAR,
    own_environment     VARCHAR,
    -- resolved attribution: own value, else nearest ancestor's, else 'unattributed'
    tenant              VARCHAR NOT NULL,
    route               VARCHAR NOT NULL,
    workflow            VARCHAR NOT NULL,
    received_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);

-- Commit order of every write to llm_calls (insert, update, delete). The one writer
-- thread runs writes one after another, so a larger number was always committed later:
-- rollups use it as their watermark, which wall-clock times cannot be (a batch stamped
-- earlier may commit later).
CREATE SEQUENCE llm_calls_write_seq;

CREATE TABLE llm_calls (
    call_id             VARCHAR PRIMARY KEY, -- trace_id || span_id for spans, requestId for log-only calls
    source              VARCHAR NOT NULL,    -- otlp | bedrock_log | merged
    ts                  TIMESTAMP NOT NULL,  -- start of the call
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
    model               VARCHAR,             -- normalised model id used for pricing
    region              VARCHAR,
    inference_profile   VARCHAR,
    input_tokens        BIGINT,              -- uncached input tokens only
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    output_tokens       BIGINT,
    reasoning_tokens    BIGINT,
    streaming           BOOLEAN,
    ttft_ms             DOUBLE,
    ttlt_ms             DOUBLE,
    otps                DOUBLE,
    status              VARCHAR NOT NULL,    -- ok | error | throttled
    error_type          VARCHAR,
    finish_reason       VARCHAR,
    service_name        VARCHAR,
    account_id          VARCHAR,
    identity_arn        VARCHAR,
    inference_region    VARCHAR,
    ingested_at         TIMESTAMP NOT NULL,  -- last time this row was written
    write_seq           BIGINT NOT NULL DEFAULT nextval('llm_calls_write_seq') -- commit order of that write
);

CREATE INDEX llm_calls_request_id ON llm_calls (request_id);

-- Rows removed from llm_calls (a log-only row replaced by its merged row), so that the
-- rollups re-process the windows they were counted in.
CREATE TABLE llm_call_deletions (
    call_id             VARCHAR NOT NULL,
    ts                  TIMESTAMP NOT NULL,
    deleted_at          TIMESTAMP NOT NULL,
    write_seq           BIGINT NOT NULL DEFAULT nextval('llm_calls_write_seq')
);

-- Invocation-log side of each Bedrock call, kept whole so that a merge with a span
-- can be recomputed whichever side arrives first (docs/architecture.md, the invocation-log path).
CREATE TABLE bedrock_invocations (
    request_id          VARCHAR PRIMARY KEY,
    ts                  TIMESTAMP NOT NULL,
    tenant              VARCHAR,
    route               VARCHAR,
    workflow            VARCHAR,
    feature             VARCHAR,
    user_id             VARCHAR,
    prompt_version      VARCHAR,
    environment         VARCHAR,
    operation           VARCHAR,
    request_model       VARCHAR,
    model               VARCHAR,
    region              VARCHAR,
    inference_profile   VARCHAR,
    input_tokens        BIGINT,
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    output_tokens       BIGINT,
    streaming           BOOLEAN,
    ttft_ms             DOUBLE,
    ttlt_ms             DOUBLE,
    status              VARCHAR NOT NULL,
    error_type          VARCHAR,
    finish_reason       VARCHAR,
    account_id          VARCHAR,
    identity_arn        VARCHAR,
    inference_region    VARCHAR,
    source_uri          VARCHAR,             -- file or object and line the record came from
    ingested_at         TIMESTAMP NOT NULL
);

-- Counters of what ingest rejected or altered, for /healthz and the dashboard.
CREATE TABLE ingest_rejections (
    rejected_at         TIMESTAMP NOT NULL,
    source              VARCHAR NOT NULL,    -- otlp_http | otlp_grpc | bedrock_s3 | ...
    reason              VARCHAR NOT NULL,
    count               BIGINT NOT NULL,
    detail              VARCHAR
);

-- One row per run of a scheduled or on-demand job.
CREATE TABLE job_runs (
    job                 VARCHAR NOT NULL,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP,
    status              VARCHAR NOT NULL,    -- running | ok | error
    rows_written        BIGINT,
    window_start        TIMESTAMP,
    window_end          TIMESTAMP,
    error               VARCHAR,
    attempt             INTEGER NOT NULL DEFAULT 1
);

-- Per-job and per-source progress: watermarks, cursors, paging tokens.
CREATE TABLE watermarks (
    name                VARCHAR PRIMARY KEY,
    value               VARCHAR NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
