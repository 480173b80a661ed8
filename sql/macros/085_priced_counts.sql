-- priced_counts: rows of a rollup_counts table (any grain, or a union of them) with their
-- cost computed when read: each row's token sums times the rates of its price class in
-- force at the row's bucket (rollup_rates), so a changed price shows in every read at once.
-- Price boundaries fall on whole UTC days, so a bucket lies inside one rate interval.
-- A row with price_class NULL holds Provisioned Throughput calls, whose cost the rollup
-- fixed (provisioned_cost_usd). Unpriced calls (cost unknown, never $0): the implausible
-- ones, and every call of a row whose class has no rate at its bucket.
-- params: none
-- grain: one row per row of `counts`, with the columns of rollup_counts_1m except
-- price_class, provisioned_cost_usd and implausible_requests, and then cost_usd
-- (DECIMAL(38,12), exact, so any summation order gives the same total) and unpriced_requests.
CREATE OR REPLACE MACRO priced_counts(counts) AS TABLE
SELECT c.* EXCLUDE (price_class, provisioned_cost_usd, implausible_requests),
       CASE WHEN c.price_class IS NULL THEN c.provisioned_cost_usd
            WHEN c.requests > c.implausible_requests
            THEN (coalesce(c.input_tokens, 0) * r.input_rate
                  + coalesce(c.cache_read_tokens, 0) * r.cache_read_rate
                  + coalesce(c.cache_write_tokens, 0) * r.cache_write_rate
                  + coalesce(c.output_tokens, 0) * r.output_rate)::DECIMAL(38, 12)
       END AS cost_usd,
       c.implausible_requests
           + CASE WHEN c.price_class IS NOT NULL AND r.pclass IS NULL
                  THEN c.requests - c.implausible_requests ELSE 0 END AS unpriced_requests
FROM query_table(counts) c
LEFT JOIN rollup_rates r ON r.pclass = c.price_class AND c.bucket >= r.lo AND c.bucket < r.hi;

-- The rows of one count table summed per bucket and key, priced, in the column order of
-- docs/schema.md's rollup_1m/1h/1d views (sql/views/010_rollups.sql).
CREATE OR REPLACE MACRO view_counts(counts) AS TABLE
SELECT bucket, key_id, sum(requests)::BIGINT AS requests, sum(errors)::BIGINT AS errors,
       sum(throttles)::BIGINT AS throttles, sum(streaming_requests)::BIGINT AS streaming_requests,
       TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
       TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
       TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
       TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
       TRY_CAST(sum(reasoning_tokens) AS BIGINT) AS reasoning_tokens,
       sum(prompt_token_requests)::BIGINT AS prompt_token_requests,
       sum(output_token_requests)::BIGINT AS output_token_requests,
       sum(cost_usd)::DOUBLE AS cost_usd, sum(unpriced_requests)::BIGINT AS unpriced_requests
FROM priced_counts(counts)
GROUP BY bucket, key_id;
