-- insert_capacity_1m: requests, tokens (input + cache read + cache write + output) and
-- quota tokens (input + cache write + output x the model's output burndown rate, the count
-- Bedrock holds against its per-minute quotas; cache reads do not count) per minute x
-- tenant x model x region for every dirty hour, from the minute rows just written. The
-- rate comes from model_burndown() (sql/macros/100_burndown.sql). Peak RPM and TPM by tenant,
-- model and region read this table or the day peaks built from it (quota is per minute).
-- Groups on the tenant x model x region id (rollup_tmr_id) and joins the names and the
-- rate to the sums, not to every minute row: about half the time of grouping on the strings.
-- Runs after insert_counts_1m.sql and delete_capacity_1m.sql.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_capacity_1m (bucket, tenant, model, region, requests, tokens, quota_tokens)
WITH k AS (
    SELECT key_id, rollup_tmr_id(tenant, model, region) AS tmr_id FROM rollup_keys
), s AS (
    -- added as HUGEINT, since four BIGINT sums can exceed BIGINT together
    SELECT c.bucket, k.tmr_id, sum(c.requests) AS requests,
           sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_read_tokens, 0)
               + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0)) AS tokens,
           sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_write_tokens, 0)) AS held,
           sum(coalesce(c.output_tokens, 0)::HUGEINT) AS output
    FROM rollup_counts_1m c JOIN k ON k.key_id = c.key_id
    WHERE c.bucket >= $lo AND c.bucket < $hi
      AND date_trunc('hour', c.bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
    GROUP BY ALL
), names AS (
    SELECT DISTINCT rollup_tmr_id(k.tenant, k.model, k.region) AS tmr_id, k.tenant, k.model, k.region, r.rate
    FROM rollup_keys k JOIN model_burndown() r ON r.model = k.model
)
-- held at the BIGINT maximum (a peak is then "at least this"), never a failed run; a
-- fractional rate rounds the minute's sum, not each call
SELECT s.bucket, n.tenant, n.model, n.region, s.requests,
       least(s.tokens, 9223372036854775807)::BIGINT,
       least(s.held + round(s.output::DOUBLE * n.rate)::HUGEINT, 9223372036854775807)::BIGINT
FROM s JOIN names n ON n.tmr_id = s.tmr_id;
