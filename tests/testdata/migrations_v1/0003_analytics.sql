-- 0003_analytics: prices, rollups and the SQL helpers every rollup and read query shares
-- (DESIGN sections 2, 5, 6). DuckDB-specific SQL (hash key ids, macros) lives here
-- and nowhere else, so a port to another engine rewrites this file and the rollup statements.

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
CREATE MACRO rollup_key_id(tenant, route, workflow, model, region) AS
    hash(tenant, route, workflow, coalesce(model, 'unknown'), coalesce(region, 'unknown'));

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
CREATE MACRO rollup_tmr_id(tenant, model, region) AS hash(tenant, model, region);
-- Requests and tokens per minute, tenant, model and region: peak RPM/TPM (DESIGN section 6).
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

-- Log-scale histogram bucket: bin i holds (1.04^(i-1), 1.04^i]. Reporting a bin as
-- 2*1.04^i/2.04 is within (1.04-1)/(1.04+1) = 1.96% of every value in it (DDSketch).
-- Values <= 0 go to a sentinel bin (the SMALLINT minimum) that reads back as 0.
CREATE MACRO hist_bin(x) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN x <= 1e-9 THEN -32768
         ELSE ceil(ln(x) / ln(1.04)) END::SMALLINT;
CREATE MACRO hist_value(i) AS
    CASE WHEN i = -32768 THEN 0.0 ELSE 2.0 * pow(1.04, i) / 2.04 END;
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

-- Calls priced alike share a price class: same model, region, profile and operation.
CREATE MACRO price_class(model, region, profile, operation) AS hash(model, region, profile, operation);

-- The rates of each price class seen in [lo, hi), per interval: `exact` from the model's
-- own price key, `loose` from its loose key (used only when no exact rate covers a call),
-- `pt` the Provisioned Throughput hours, whose cost is shared by token count among the
-- calls of the same model and region in that hour (by call count when they had none).
-- Regular expressions run once per class, not once per call.
CREATE MACRO class_rates(lo, hi) AS TABLE
WITH cls AS (
    SELECT pclass, any_value(model) AS model, any_value(region) AS region,
           price_key(any_value(model)) AS pk, price_loose_key(any_value(model)) AS plk,
           call_scope(any_value(inference_profile)) AS scope,
           is_batch(any_value(operation)) AS batch
    FROM (SELECT price_class(model, region, inference_profile, operation) AS pclass, model,
                 region, inference_profile, operation
          FROM llm_calls WHERE ts >= lo AND ts < hi)
    GROUP BY pclass
), ptc AS (
    SELECT cls.pclass, cls.pk, cls.region, p.valid_from, p.valid_to,
           p.model_units * p.hourly_rate_per_unit AS hour_cost
    FROM cls JOIN provisioned_throughput p ON cls.pk = price_key(p.model) AND cls.region = p.region
), pth AS (
    SELECT ptc.pk, ptc.region, date_trunc('hour', c.ts) AS hr, max(hour_cost) AS hour_cost,
           sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
               + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
           count(*) AS calls
    FROM llm_calls c JOIN ptc
      ON price_class(c.model, c.region, c.inference_profile, c.operation) = ptc.pclass
     AND c.ts >= ptc.valid_from AND (ptc.valid_to IS NULL OR c.ts < ptc.valid_to)
    WHERE c.ts >= lo AND c.ts < hi
    GROUP BY ALL
)
SELECT 'exact' AS kind, cls.pclass, b.lo, b.hi, b.input_rate, b.cache_read_rate,
       b.cache_write_rate, b.output_rate,
       CASE WHEN cls.batch THEN 1 - b.batch_discount ELSE 1 END AS factor,
       NULL::DOUBLE AS per_call, b.source
FROM cls JOIN price_book b ON b.key = cls.pk AND b.call_scope = cls.scope
UNION ALL
SELECT 'loose', cls.pclass, b.lo, b.hi, b.input_rate, b.cache_read_rate, b.cache_write_rate,
       b.output_rate, CASE WHEN cls.batch THEN 1 - b.batch_discount ELSE 1 END, NULL, b.source
FROM cls JOIN price_book b ON b.key = cls.plk AND b.call_scope = cls.scope
UNION ALL
SELECT 'pt', ptc.pclass, greatest(pth.hr, ptc.valid_from),
       least(pth.hr + INTERVAL 1 HOUR, coalesce(ptc.valid_to, pth.hr + INTERVAL 1 HOUR)),
       rate, rate, rate, rate, 1.0, CASE WHEN pth.tokens > 0 THEN NULL ELSE pth.hour_cost / pth.calls END,
       'provisioned'
FROM (SELECT *, CASE WHEN tokens > 0 THEN hour_cost / tokens ELSE 0.0 END AS rate FROM pth) pth
JOIN ptc ON ptc.pk = pth.pk AND ptc.region = pth.region
 AND pth.hr + INTERVAL 1 HOUR > ptc.valid_from AND (ptc.valid_to IS NULL OR pth.hr < ptc.valid_to);

-- Calls with ts in [lo, hi) and their cost in USD: on-demand tokens x price_book rates
-- (exact key first, then loose key), batch discount, or a Provisioned Throughput hour
-- shared by token count among the calls it served. NULL cost = no price = unpriced.
CREATE MACRO call_costs(lo, hi) AS TABLE
WITH r AS (SELECT * FROM class_rates(lo, hi))
SELECT c.* EXCLUDE (pclass), call_scope(c.inference_profile) AS scope,
       coalesce(pt.per_call,
         (coalesce(c.input_tokens, 0) * coalesce(pt.input_rate, e.input_rate, l.input_rate)
          + coalesce(c.cache_read_tokens, 0) * coalesce(pt.cache_read_rate, e.cache_read_rate, l.cache_read_rate)
          + coalesce(c.cache_write_tokens, 0) * coalesce(pt.cache_write_rate, e.cache_write_rate, l.cache_write_rate)
          + coalesce(c.output_tokens, 0) * coalesce(pt.output_rate, e.output_rate, l.output_rate))
         * coalesce(pt.factor, e.factor, l.factor)) AS cost_usd,
       coalesce(pt.source, e.source, l.source) AS price_source
FROM (SELECT *, price_class(model, region, inference_profile, operation) AS pclass
      FROM llm_calls WHERE ts >= lo AND ts < hi) c
LEFT JOIN (SELECT * FROM r WHERE kind = 'pt') pt
       ON pt.pclass = c.pclass AND c.ts >= pt.lo AND c.ts < pt.hi
LEFT JOIN (SELECT * FROM r WHERE kind = 'exact') e
       ON e.pclass = c.pclass AND c.ts >= e.lo AND c.ts < e.hi
LEFT JOIN (SELECT * FROM r WHERE kind = 'loose') l
       ON e.pclass IS NULL AND l.pclass = c.pclass AND c.ts >= l.lo AND c.ts < l.hi;

-- Histogram rows of rollup_bins_1m in [lo, hi) in long form (bucket, key, metric, bin, n),
-- with buckets floored to `step` ('minute', 'hour' or 'day').
CREATE MACRO minute_bins(lo, hi, step) AS TABLE
WITH m AS (SELECT * FROM rollup_bins_1m WHERE bucket >= lo AND bucket < hi)
SELECT date_trunc(step, bucket) AS bucket, key_id, 0::UTINYINT AS metric, ttft AS bin, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 1::UTINYINT, ttlt, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 2::UTINYINT, otps, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 3::UTINYINT, prompt_tokens, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 4::UTINYINT, output_tokens, n FROM m;

-- The documented rollups (DESIGN section 2), keyed by bucket start and the five key
-- strings, histograms as MAP(bin -> count). For reading by hand (`outcrop sql`); the
-- named queries read the narrow tables above, which is much faster.
CREATE MACRO hist_maps(lo, hi, step) AS TABLE
SELECT bucket, key_id,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 0)) AS ttft_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 1)) AS ttlt_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 2)) AS otps_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 3)) AS prompt_tokens_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 4)) AS output_tokens_hist
FROM (SELECT bucket, key_id, metric, bin, sum(n) AS n
      FROM (SELECT * FROM minute_bins(lo, hi, step) WHERE step <> 'day'
            UNION ALL
            SELECT * FROM rollup_bins_1d WHERE step = 'day')
      WHERE bin IS NOT NULL GROUP BY ALL)
GROUP BY ALL;
CREATE VIEW rollup_1m AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id) REPLACE (c.cost_usd::DOUBLE AS cost_usd),
       h.* EXCLUDE (bucket, key_id)
FROM rollup_counts_1m c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'minute') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;
CREATE VIEW rollup_1h AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id) REPLACE (c.cost_usd::DOUBLE AS cost_usd),
       h.* EXCLUDE (bucket, key_id)
FROM rollup_counts_1h c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'hour') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;
CREATE VIEW rollup_1d AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id) REPLACE (c.cost_usd::DOUBLE AS cost_usd),
       h.* EXCLUDE (bucket, key_id)
FROM rollup_counts_1d c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'day') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;

-- Reads over [lo, hi) take whole days from the day tables, whole hours from the hour
-- counts and the minute bins summed by hour, and the ragged minutes at either end from
-- the minute tables. analytics/windows.py computes the ten bounds so that they tile the
-- range without overlap; every piece is pruned by its bucket range.
CREATE MACRO span_counts(m1_lo, m1_hi, m2_lo, m2_hi, h1_lo, h1_hi, h2_lo, h2_hi, d_lo, d_hi)
AS TABLE
SELECT * FROM rollup_counts_1m WHERE bucket >= m1_lo AND bucket < m1_hi
UNION ALL
SELECT * FROM rollup_counts_1m WHERE bucket >= m2_lo AND bucket < m2_hi
UNION ALL
SELECT * FROM rollup_counts_1h WHERE bucket >= h1_lo AND bucket < h1_hi
UNION ALL
SELECT * FROM rollup_counts_1h WHERE bucket >= h2_lo AND bucket < h2_hi
UNION ALL
SELECT * FROM rollup_counts_1d WHERE bucket >= d_lo AND bucket < d_hi;

-- A grouping key is kept when its by_* flag is set and NULLed otherwise, so read queries
-- group by all five columns and still have static SQL and bound parameters only.
-- A filter list NULL means "no filter on this key". One row per key id that passes the
-- filters, with `gid` numbering its group, so reads join one BIGINT and group by it.
CREATE MACRO key_ok(wanted, v) AS wanted IS NULL OR list_contains(wanted, v);
CREATE MACRO key_groups(by_tenant, by_route, by_workflow, by_model, by_region,
                        f_tenant, f_route, f_workflow, f_model, f_region) AS TABLE
SELECT key_id, g_tenant, g_route, g_workflow, g_model, g_region,
       dense_rank() OVER (ORDER BY g_tenant, g_route, g_workflow, g_model, g_region) AS gid
FROM (SELECT key_id,
             CASE WHEN by_tenant THEN tenant END AS g_tenant,
             CASE WHEN by_route THEN route END AS g_route,
             CASE WHEN by_workflow THEN workflow END AS g_workflow,
             CASE WHEN by_model THEN model END AS g_model,
             CASE WHEN by_region THEN region END AS g_region
      FROM rollup_keys
      WHERE key_ok(f_tenant, tenant) AND key_ok(f_route, route) AND key_ok(f_workflow, workflow)
        AND key_ok(f_model, model) AND key_ok(f_region, region));

-- The histogram rows of a read over [lo, hi) per group, as (gid, metric, bin, n) with
-- several rows per bin; `groups` is a key_groups table. Whole days [d_lo, d_hi) (the day
-- piece of analytics/windows.py; [hi, hi) when there is none) come from the day tables and
-- every other minute of the range from rollup_bins_1m, so the pieces tile the range.
-- Unless `by_key` (the read groups or filters by route or workflow), the days come from
-- rollup_tmr_bins_1d: all keys of one tenant, model and region then fall in one group, so
-- merging their summed rows is exact and reads ~9x fewer rows than rollup_bins_1d.
CREATE MACRO group_bins(groups, by_key, lo, d_lo, d_hi, hi) AS TABLE
WITH m AS (
    SELECT * FROM rollup_bins_1m WHERE bucket >= lo AND bucket < d_lo
    UNION ALL
    SELECT * FROM rollup_bins_1m WHERE bucket >= d_hi AND bucket < hi
), k AS (
    SELECT key_id, 0::UTINYINT AS metric, ttft AS bin, n FROM m
    UNION ALL SELECT key_id, 1::UTINYINT, ttlt, n FROM m
    UNION ALL SELECT key_id, 2::UTINYINT, otps, n FROM m
    UNION ALL SELECT key_id, 3::UTINYINT, prompt_tokens, n FROM m
    UNION ALL SELECT key_id, 4::UTINYINT, output_tokens, n FROM m
    UNION ALL
    SELECT key_id, metric, bin, n FROM rollup_bins_1d
    WHERE bucket >= CASE WHEN by_key THEN d_lo ELSE d_hi END AND bucket < d_hi
)
SELECT g.gid, k.metric, k.bin, k.n FROM k JOIN query_table(groups) g ON g.key_id = k.key_id
UNION ALL
SELECT t.gid, s.metric, s.bin, s.n
FROM rollup_tmr_bins_1d s
JOIN (SELECT DISTINCT rollup_tmr_id(k.tenant, k.model, k.region) AS tmr_id, g.gid
      FROM query_table(groups) g JOIN rollup_keys k ON k.key_id = g.key_id) t ON t.tmr_id = s.tmr_id
WHERE s.bucket >= CASE WHEN by_key THEN d_hi ELSE d_lo END AND s.bucket < d_hi;

-- Percentiles per group (gid of key_groups) from merged histograms: sum counts per bin,
-- find the bins holding the values of rank floor(p*(n-1)) and the next one, and
-- interpolate between them as quantile_cont does, so each estimate stays within 2% of
-- quantile_cont. `bins` is (gid, metric, bin, n) with several rows per bin.
CREATE MACRO bin_percentiles(bins) AS TABLE
WITH merged AS (
    SELECT gid, metric, bin, sum(n) AS n FROM query_table(bins) WHERE bin IS NOT NULL GROUP BY ALL
), running AS (
    SELECT *, sum(n) OVER (PARTITION BY gid, metric ORDER BY bin ROWS UNBOUNDED PRECEDING) AS c,
              sum(n) OVER (PARTITION BY gid, metric) AS t
    FROM merged
), ranked AS (
    -- one row per percentile (fewer expressions to plan than four copies of each)
    SELECT gid, metric, q.p, q.p * (max(t) - 1) AS r,
           min(bin) FILTER (WHERE c > floor(q.p * (t - 1))) AS bin_lo,
           min(bin) FILTER (WHERE c > floor(q.p * (t - 1)) + 1) AS bin_hi
    FROM running CROSS JOIN (VALUES (0.50), (0.90), (0.95), (0.99)) q(p)
    GROUP BY gid, metric, q.p
), v AS (
    SELECT gid, metric, p, hist_quantile(bin_lo, bin_hi, r) AS v FROM ranked
)
SELECT gid, metric, max(v) FILTER (WHERE p = 0.50) AS p50, max(v) FILTER (WHERE p = 0.90) AS p90,
       max(v) FILTER (WHERE p = 0.95) AS p95, max(v) FILTER (WHERE p = 0.99) AS p99
FROM v GROUP BY gid, metric;
