-- 0002_bedrock_sources: progress and side tables of the Bedrock invocation-log pollers,
-- the CloudWatch metrics poller and inference-profile resolution (docs/schema.md).
-- Source progress is written in the same transaction as the rows it covers, so a crash
-- never loses or doubles a record. Per-prefix S3 hour watermarks and CloudWatch Logs
-- event watermarks live in `watermarks` (0001) under names 'bedrock_s3:…' / 'bedrock_cwl:…'.
-- params: none

-- Each log object or local file read, and how far: `line_offset` lines are stored.
CREATE TABLE bedrock_log_objects (
    uri                 VARCHAR PRIMARY KEY, -- s3://bucket/key or an absolute local path
    size                BIGINT,              -- bytes when last read; a smaller size means rotated
    mtime_ns            BIGINT,              -- local files: modification time when last read
    etag                VARCHAR,             -- S3 objects: ETag when read
    byte_offset         BIGINT NOT NULL DEFAULT 0, -- plain local files: where the next line starts
    line_offset         BIGINT NOT NULL DEFAULT 0, -- lines consumed (good and bad)
    records             BIGINT NOT NULL DEFAULT 0, -- calls stored from it
    errors              BIGINT NOT NULL DEFAULT 0, -- malformed lines skipped
    complete            BOOLEAN NOT NULL DEFAULT FALSE, -- S3 objects and .gz files are immutable
    updated_at          TIMESTAMP NOT NULL
);

-- Lines that could not be read, with where they were, for `outcrop` to list.
CREATE TABLE ingest_errors (
    location            VARCHAR NOT NULL,    -- file, s3://… object, or cloudwatch-logs://group/stream/eventId
    line                BIGINT NOT NULL,     -- 1-based line number (1 for a CloudWatch event)
    source              VARCHAR NOT NULL,    -- bedrock_s3 | bedrock_cloudwatch | bedrock_files
    reason              VARCHAR NOT NULL,
    excerpt             VARCHAR,             -- first 200 characters of the line
    seen_at             TIMESTAMP NOT NULL,
    PRIMARY KEY (location, line)
);

-- CloudWatch AWS/Bedrock metrics per model at one-minute grain. Counts are the minute's
-- Sum, latencies the minute's Average in ms. NULL where CloudWatch had no datapoint.
CREATE TABLE bedrock_metrics_1m (
    ts                          TIMESTAMP NOT NULL, -- start of the minute, UTC
    region                      VARCHAR NOT NULL,
    model_id                    VARCHAR NOT NULL,   -- the ModelId dimension as CloudWatch has it
    invocations                 BIGINT,
    invocation_throttles        BIGINT,
    invocation_client_errors    BIGINT,
    invocation_server_errors    BIGINT,
    input_token_count           BIGINT,
    output_token_count          BIGINT,
    invocation_latency_ms       DOUBLE,
    time_to_first_token_ms      DOUBLE,
    estimated_tpm_quota_usage   BIGINT,
    polled_at                   TIMESTAMP NOT NULL,
    PRIMARY KEY (ts, region, model_id)
);

-- Inference profiles seen in logs and what they resolve to. status 'unresolved' rows are
-- the list of profiles whose calls stay unpriced until config or the API names a model.
CREATE TABLE inference_profiles (
    profile             VARCHAR PRIMARY KEY, -- profile id or ARN as it appeared in modelId
    model               VARCHAR,
    tenant              VARCHAR,
    workflow            VARCHAR,
    source              VARCHAR NOT NULL,    -- config | system | api | unresolved
    status              VARCHAR NOT NULL,    -- resolved | unresolved
    error               VARCHAR,             -- why it is unresolved
    first_seen          TIMESTAMP NOT NULL,
    checked_at          TIMESTAMP NOT NULL
);
