-- 0003_analytics: prices and rollup tables (docs/schema.md). The SQL helpers
-- every rollup and read query shares (hash key ids, histogram bins, pricing) and the
-- rollup_1m/1h/1d views are not migrations: sql/macros/ and sql/views/, created with
-- CREATE OR REPLACE each time the store opens (core/store/macros.py).
-- params: none

-- Effective-dated prices per million tokens. `model` is in the form llm_calls.model has
-- (vendor.name-version:N, no cross-region prefix). region_scope: any | in_region | geo |
-- global. source: 'genai-prices' (seed) or 'override' (config; wins over the seed).
CREATE TABLE prices (
    provider                VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,
    region_scope            VARCHAR NOT NULL,
    valid_from              TIMESTAMP NOT NULL,
    valid_to                TIMESTAMP,           -- exclusive; NULL = still valid
    input_per_mtok          DOUBLE NOT NULL,
    output_per_mtok         DOUBLE NOT NULL,
    cache_read_per_mtok     DOUBLE,              -- NULL: cache reads billed at the input rate
    cache_write_per_mtok    DOUBLE,              -- 5-minute TTL; NULL: billed at the input rate
    cache_write_1h_per_mtok DOUBLE,              -- kept for reference; calls do not split TTLs yet
    batch_discount          DOUBLE NOT NULL,     -- fraction off for batch inference (0.5 = half price)
    currency                VARCHAR NOT NULL,
    source                  VARCHAR NOT NULL
);

-- Provisioned Throughput commitments from settings: billed per model-unit hour, and
-- amortised over the tokens the model served in each hour (a commitment costs the same, busy or idle).
CREATE TABLE provisioned_throughput (
    model                   VARCHAR NOT NULL,
    region                  VARCHAR NOT NULL,
    model_units             INTEGER NOT NULL,
    hourly_rate_per_unit    DOUBLE NOT NULL,
    valid_from              TIMESTAMP NOT NULL,
    valid_to                TIMESTAMP
);

-- Derived from `prices` + the scope multipliers: for each price key and call scope, the
-- one price that applies over each non-overlapping interval. Rebuilt by the pricing sync.
CREATE TABLE price_book (
    key                     VARCHAR NOT NULL,    -- price_key(model)
    call_scope              VARCHAR NOT NULL,    -- in_region | geo | global
    lo                      TIMESTAMP NOT NULL,
    hi                      TIMESTAMP NOT NULL,  -- exclusive
    input_rate              DOUBLE NOT NULL,     -- USD per token, multiplier applied
    output_rate             DOUBLE NOT NULL,
    cache_read_rate         DOUBLE NOT NULL,
    cache_write_rate        DOUBLE NOT NULL,
    batch_discount          DOUBLE NOT NULL,
    source                  VARCHAR NOT NULL
);

-- Hours whose rollups must be rewritten (late data, attribution fix-ups, re-pricing).
CREATE TABLE rollup_dirty (
    grain                   VARCHAR NOT NULL,    -- hour | day
    bucket                  TIMESTAMP NOT NULL,
    PRIMARY KEY (grain, bucket)
);

-- Rollups at three grains, same columns. Histograms map a log-scale bucket index
-- (hist_bin) to a count; merging is summing counts per index, so any percentile over
-- Every key combination rolled up, under a 64-bit id: the hash of its five strings, so a
-- rollup groups on one BIGINT instead of five VARCHARs and needs no lookup to find the id
-- (bench/README.md). Two of n keys collide with probability about n^2 / 2^65: ~1e-11 for
-- 10,000 keys.
CREATE TABLE rollup_keys (
    key_id                  UBIGINT PRIMARY KEY, -- rollup_key_id(tenant, route, workflow, model, region)
    tenant                  VARCHAR NOT NULL,
    route                   VARCHAR NOT NULL,
    workflow                VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,    -- 'unknown' when the call named none
    region                  VARCHAR NOT NULL     -- 'unknown' when the call named none
);

-- Counts, token sums and cost per bucket and key at three grains (same columns).
CREATE TABLE rollup_counts_1m (
    bucket                  TIMESTAMP NOT NULL,
    key_id                  UBIGINT NOT NULL,    -- rollup_keys.key_id
    requests                BIGINT NOT NULL,
    errors                  BIGINT NOT NULL,
    throttles               BIGINT NOT NULL,
    streaming_requests      BIGINT NOT NULL,
    input_tokens            BIGINT,
    cache_read_tokens       BIGINT,
    cache_write_tokens      BIGINT,
    output_tokens           BIGINT,
    reasoning_tokens        BIGINT,
    prompt_token_requests   BIGINT NOT NULL,     -- calls that reported any input-side count
    output_token_requests   BIGINT NOT NULL,     -- calls that reported output tokens
    cost_usd                DECIMAL(38, 12),     -- priced calls only; exact sums, in any order
    unpriced_requests       BIGINT NOT NULL
);
CREATE TABLE rollup_counts_1h AS SELECT * FROM rollup_counts_1m LIMIT 0;
CREATE TABLE rollup_counts_1d AS SELECT * FROM rollup_counts_1m LIMIT 0;

-- Mergeable latency and size histograms. Minute grain: one row per bucket, key and
-- combination of the five metric bins, with its call count; a metric's histogram is the
-- sum of n per bin (NULL bin: the call did not report it). At 10M calls a month a minute
-- and key hold ~1.5 calls, so this is the most compact minute form; hours read it summed.
CREATE TABLE rollup_bins_1m (
    bucket                  TIMESTAMP NOT NULL,
    key_id                  UBIGINT NOT NULL,
    ttft                    SMALLINT,            -- hist_bin(ttft_ms)
    ttlt                    SMALLINT,            -- hist_bin(ttlt_ms)
    otps                    SMALLINT,            -- hist_bin(otps)
    prompt_tokens           SMALLINT,            -- hist_bin(input + cache read + cache write)
    output_tokens           SMALLINT,            -- hist_bin(output_tokens)
    n                       INTEGER NOT NULL
);
-- Day grain: one row per day, key, metric and bin, with its call count. Metrics are
-- numbered 0 ttft, 1 ttlt, 2 otps, 3 prompt_tokens, 4 output_tokens (as minute_bins does).
CREATE TABLE rollup_bins_1d (
    bucket                  TIMESTAMP NOT NULL,
    key_id                  UBIGINT NOT NULL,
    metric                  UTINYINT NOT NULL,   -- 0 ttft, 1 ttlt, 2 otps, 3 prompt, 4 output tokens
    bin                     SMALLINT NOT NULL,
    n                       BIGINT NOT NULL
);
-- Day histograms again, summed over route and workflow: one row per day, tenant x model x
-- region (`tmr_id`), metric and bin. ~9x fewer rows than rollup_bins_1d at the bench's
-- key mix, so reads that neither group nor filter by route or workflow merge these.
CREATE TABLE rollup_tmr_bins_1d (
    bucket                  TIMESTAMP NOT NULL,
    tmr_id                  UBIGINT NOT NULL,    -- rollup_tmr_id(tenant, model, region) of rollup_keys
    metric                  UTINYINT NOT NULL,   -- as rollup_bins_1d
    bin                     SMALLINT NOT NULL,
    n                       BIGINT NOT NULL
);
-- Requests and tokens per minute, tenant, model and region: peak RPM/TPM (quotas are per minute).
CREATE TABLE rollup_capacity_1m (
    bucket                  TIMESTAMP NOT NULL,
    tenant                  VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,
    region                  VARCHAR NOT NULL,
    requests                BIGINT NOT NULL,
    tokens                  BIGINT NOT NULL      -- input + cache read + cache write + output
);
-- Peak minute of each complete day for every grouping of tenant, model and region: the
-- largest per-minute sum of requests (and, separately, of tokens) over the keys of the
-- group. A key not grouped is NULL and its `by_*` flag false. The peak of whole days is
-- the max of these, exactly, when a read groups by the same keys and filters only on them.
CREATE TABLE rollup_peaks_1d (
    bucket                  TIMESTAMP NOT NULL,
    by_tenant               BOOLEAN NOT NULL,
    by_model                BOOLEAN NOT NULL,
    by_region               BOOLEAN NOT NULL,
    tenant                  VARCHAR,
    model                   VARCHAR,
    region                  VARCHAR,
    peak_rpm                BIGINT NOT NULL,
    peak_tpm                BIGINT NOT NULL
);
