-- 0003_analytics: prices, rollups and the SQL helpers every rollup and read query shares
-- (DESIGN sections 2, 5, 6). DuckDB-specific SQL (MAP histograms, macros) lives here and
-- nowhere else, so a port to another engine rewrites this file and the rollup statements.

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
-- amortised over the tokens the model served in each hour (DESIGN section 5).
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
-- any range and grouping comes from the rollups (DESIGN section 2).
CREATE TABLE rollup_1m (
    bucket                  TIMESTAMP NOT NULL,
    tenant                  VARCHAR NOT NULL,
    route                   VARCHAR NOT NULL,
    workflow                VARCHAR NOT NULL,
    model                   VARCHAR NOT NULL,    -- 'unknown' when the call named none
    region                  VARCHAR NOT NULL,    -- 'unknown' when the call named none
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
    cost_usd                DOUBLE,              -- priced calls only
    unpriced_requests       BIGINT NOT NULL,
    ttft_hist               MAP(INTEGER, UBIGINT),
    ttlt_hist               MAP(INTEGER, UBIGINT),
    otps_hist               MAP(INTEGER, UBIGINT),
    prompt_tokens_hist      MAP(INTEGER, UBIGINT), -- input + cache read + cache write per call
    output_tokens_hist      MAP(INTEGER, UBIGINT)
);
CREATE TABLE rollup_1h AS SELECT * FROM rollup_1m LIMIT 0;
CREATE TABLE rollup_1d AS SELECT * FROM rollup_1m LIMIT 0;

-- Log-scale histogram bucket: bin i holds (1.04^(i-1), 1.04^i]. Reporting a bin as
-- 2*1.04^i/2.04 is within (1.04-1)/(1.04+1) = 1.96% of every value in it (DDSketch).
-- Values <= 0 go to a sentinel bin that reads back as 0.
CREATE MACRO hist_bin(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN x <= 1e-9 THEN -100000
         ELSE ceil(ln(x) / ln(1.04))::INTEGER END;
CREATE MACRO hist_value(i) AS
    CASE WHEN i = -100000 THEN 0.0 ELSE 2.0 * pow(1.04, i) / 2.04 END;
-- Value at fractional rank r, given the bins of ranks floor(r) and floor(r)+1.
CREATE MACRO hist_quantile(bin_lo, bin_hi, r) AS
    hist_value(bin_lo) + (r - floor(r)) * (hist_value(coalesce(bin_hi, bin_lo)) - hist_value(bin_lo));

-- Price lookup keys: lower case, no ARN, no cross-region prefix, no ':N' suffix.
-- The loose key also drops a trailing -vN, for seed ids that omit the version.
CREATE MACRO price_key(m) AS
    regexp_replace(
        regexp_replace(regexp_replace(lower(m), '^.*/', ''),
                       '^(global|us-gov|us|eu|apac|jp|au|ca|in|regional)\.', ''),
        ':\d+$', '');
CREATE MACRO price_loose_key(m) AS regexp_replace(price_key(m), '-v\d+$', '');

-- Where a call was served: a global or geo (us., eu., ...) profile, else in-region.
CREATE MACRO call_scope(profile) AS
    CASE WHEN regexp_matches(lower(coalesce(profile, '')), '(^|/)global\.') THEN 'global'
         WHEN regexp_matches(lower(coalesce(profile, '')),
                             '(^|/)(us-gov|us|eu|apac|jp|au|ca|in)\.') THEN 'geo'
         ELSE 'in_region' END;

-- Batch inference is billed at a discount; Bedrock names those operations *Batch*
-- (CreateModelInvocationJob results are logged with a batch operation name).
CREATE MACRO is_batch(operation) AS coalesce(lower(operation) LIKE '%batch%', false);

-- Calls with ts in [lo, hi) and their cost in USD: on-demand tokens x price_book rates
-- (exact key first, then loose key), batch discount, or a Provisioned Throughput hour
-- shared by token count among the calls it served. NULL cost = no price = unpriced.
CREATE MACRO call_costs(lo, hi) AS TABLE
WITH c AS (
    SELECT *, call_scope(inference_profile) AS scope, price_key(model) AS pk,
           price_loose_key(model) AS plk,
           coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
             + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0) AS all_tokens
    FROM llm_calls WHERE ts >= lo AND ts < hi
), pt AS (
    SELECT c.call_id, p.model_units * p.hourly_rate_per_unit AS hour_cost,
           date_trunc('hour', c.ts) AS hr, price_key(p.model) AS pk, p.region, c.all_tokens
    FROM c JOIN provisioned_throughput p
      ON c.pk = price_key(p.model) AND c.region = p.region
     AND c.ts >= p.valid_from AND (p.valid_to IS NULL OR c.ts < p.valid_to)
), pt_share AS (
    SELECT call_id,
           hour_cost * CASE WHEN sum(all_tokens) OVER w > 0
                            THEN all_tokens / sum(all_tokens) OVER w
                            ELSE 1.0 / count(*) OVER w END AS cost
    FROM pt WINDOW w AS (PARTITION BY pk, region, hr)
)
SELECT c.* EXCLUDE (pk, plk, all_tokens),
       coalesce(s.cost,
         (coalesce(c.input_tokens, 0) * coalesce(e.input_rate, l.input_rate)
          + coalesce(c.cache_read_tokens, 0) * coalesce(e.cache_read_rate, l.cache_read_rate)
          + coalesce(c.cache_write_tokens, 0) * coalesce(e.cache_write_rate, l.cache_write_rate)
          + coalesce(c.output_tokens, 0) * coalesce(e.output_rate, l.output_rate))
         * CASE WHEN is_batch(c.operation)
                THEN 1 - coalesce(e.batch_discount, l.batch_discount) ELSE 1 END
       ) AS cost_usd,
       CASE WHEN s.cost IS NOT NULL THEN 'provisioned'
            ELSE coalesce(e.source, l.source) END AS price_source
FROM c
LEFT JOIN pt_share s ON s.call_id = c.call_id
LEFT JOIN price_book e ON e.key = c.pk AND e.call_scope = c.scope AND c.ts >= e.lo AND c.ts < e.hi
LEFT JOIN price_book l ON e.key IS NULL AND l.key = c.plk AND l.call_scope = c.scope
                      AND c.ts >= l.lo AND c.ts < l.hi;

-- Rollup rows covering [lo, hi) exactly: whole days from rollup_1d, whole hours from
-- rollup_1h, the ragged minutes at either end from rollup_1m. analytics/windows.py
-- computes the ten bounds so that they tile the range without overlap.
CREATE MACRO rollup_span(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi)
AS TABLE
SELECT * FROM rollup_1m
 WHERE (bucket >= m1_lo AND bucket < m1_hi) OR (bucket >= m2_lo AND bucket < m2_hi)
UNION ALL
SELECT * FROM rollup_1h
 WHERE (bucket >= h1_lo AND bucket < h1_hi) OR (bucket >= h2_lo AND bucket < h2_hi)
UNION ALL
SELECT * FROM rollup_1d WHERE bucket >= d_lo AND bucket < d_hi;

-- A grouping key is kept when its by_* flag is set and NULLed otherwise, so read queries
-- group by all five columns and still have static SQL and bound parameters only.
-- A filter list NULL means "no filter on this key".
CREATE MACRO key_ok(wanted, v) AS wanted IS NULL OR list_contains(wanted, v);

CREATE MACRO keyed_span(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi,
                        by_tenant, by_route, by_workflow, by_model, by_region,
                        f_tenant, f_route, f_workflow, f_model, f_region) AS TABLE
SELECT CASE WHEN by_tenant THEN tenant END AS g_tenant,
       CASE WHEN by_route THEN route END AS g_route,
       CASE WHEN by_workflow THEN workflow END AS g_workflow,
       CASE WHEN by_model THEN model END AS g_model,
       CASE WHEN by_region THEN region END AS g_region,
       *
FROM rollup_span(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi)
WHERE key_ok(f_tenant, tenant) AND key_ok(f_route, route) AND key_ok(f_workflow, workflow)
  AND key_ok(f_model, model) AND key_ok(f_region, region);

-- Percentiles per group from merged histograms: sum counts per bin across rows, find the
-- bins holding the values of rank floor(p*(n-1)) and the next one, and interpolate
-- between them as quantile_cont does, so each estimate stays within 2% of quantile_cont.
-- `wanted` lists the metrics to compute, to skip the rest.
CREATE MACRO span_percentiles(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi,
                              by_tenant, by_route, by_workflow, by_model, by_region,
                              f_tenant, f_route, f_workflow, f_model, f_region, wanted) AS TABLE
WITH src AS (
    SELECT * FROM keyed_span(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi,
                             by_tenant, by_route, by_workflow, by_model, by_region,
                             f_tenant, f_route, f_workflow, f_model, f_region)
), long AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, 'ttft' AS metric,
           unnest(map_keys(ttft_hist)) AS k, unnest(map_values(ttft_hist)) AS n
    FROM src WHERE list_contains(wanted, 'ttft')
    UNION ALL
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, 'ttlt',
           unnest(map_keys(ttlt_hist)), unnest(map_values(ttlt_hist))
    FROM src WHERE list_contains(wanted, 'ttlt')
    UNION ALL
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, 'otps',
           unnest(map_keys(otps_hist)), unnest(map_values(otps_hist))
    FROM src WHERE list_contains(wanted, 'otps')
    UNION ALL
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, 'prompt_tokens',
           unnest(map_keys(prompt_tokens_hist)), unnest(map_values(prompt_tokens_hist))
    FROM src WHERE list_contains(wanted, 'prompt_tokens')
    UNION ALL
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, 'output_tokens',
           unnest(map_keys(output_tokens_hist)), unnest(map_values(output_tokens_hist))
    FROM src WHERE list_contains(wanted, 'output_tokens')
), merged AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, metric, k, sum(n) AS n
    FROM long GROUP BY ALL
), running AS (
    SELECT *, sum(n) OVER (PARTITION BY g_tenant, g_route, g_workflow, g_model, g_region, metric
                           ORDER BY k ROWS UNBOUNDED PRECEDING) AS c,
              sum(n) OVER (PARTITION BY g_tenant, g_route, g_workflow, g_model, g_region, metric) AS t
    FROM merged
)
SELECT g_tenant, g_route, g_workflow, g_model, g_region, metric,
       hist_quantile(min(k) FILTER (WHERE c > floor(0.50 * (t - 1))),
                     min(k) FILTER (WHERE c > floor(0.50 * (t - 1)) + 1), 0.50 * (max(t) - 1)) AS p50,
       hist_quantile(min(k) FILTER (WHERE c > floor(0.90 * (t - 1))),
                     min(k) FILTER (WHERE c > floor(0.90 * (t - 1)) + 1), 0.90 * (max(t) - 1)) AS p90,
       hist_quantile(min(k) FILTER (WHERE c > floor(0.95 * (t - 1))),
                     min(k) FILTER (WHERE c > floor(0.95 * (t - 1)) + 1), 0.95 * (max(t) - 1)) AS p95,
       hist_quantile(min(k) FILTER (WHERE c > floor(0.99 * (t - 1))),
                     min(k) FILTER (WHERE c > floor(0.99 * (t - 1)) + 1), 0.99 * (max(t) - 1)) AS p99
FROM running GROUP BY ALL;

-- Requests and tokens per minute per group, for peak RPM/TPM (only rollup_1m has minutes).
CREATE MACRO keyed_minutes(lo, hi, by_tenant, by_route, by_workflow, by_model, by_region,
                           f_tenant, f_route, f_workflow, f_model, f_region) AS TABLE
SELECT CASE WHEN by_tenant THEN tenant END AS g_tenant,
       CASE WHEN by_route THEN route END AS g_route,
       CASE WHEN by_workflow THEN workflow END AS g_workflow,
       CASE WHEN by_model THEN model END AS g_model,
       CASE WHEN by_region THEN region END AS g_region,
       bucket, sum(requests) AS requests,
       sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
           + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS tokens
FROM rollup_1m
WHERE bucket >= lo AND bucket < hi
  AND key_ok(f_tenant, tenant) AND key_ok(f_route, route) AND key_ok(f_workflow, workflow)
  AND key_ok(f_model, model) AND key_ok(f_region, region)
GROUP BY ALL;
