-- insert_capacity_1m: requests, tokens (input + cache read + cache write + output) and
-- quota tokens (input + cache write + output x the model's output burndown rate, the count
-- Bedrock holds against its per-minute quotas; cache reads do not count) per minute x
-- tenant x model x region for every dirty hour, from the minute rows just written. The
-- rate comes from model_burndown() (sql/macros/100_burndown.sql). Peak RPM and TPM by tenant,
-- model and region read this table or the day peaks built from it (quota is per minute).
-- Runs after insert_counts_1m.sql and delete_capacity_1m.sql.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_capacity_1m (bucket, tenant, model, region, requests, tokens, quota_tokens)
SELECT c.bucket, k.tenant, k.model, k.region, sum(c.requests),
       -- added as HUGEINT, since four BIGINT sums can exceed BIGINT together; then held at
       -- the BIGINT maximum (a peak is then "at least this"), never a failed run
       least(sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_read_tokens, 0)
                 + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0)),
             9223372036854775807)::BIGINT,
       -- a fractional rate rounds the minute's sum, not each call
       least(sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_write_tokens, 0))
             + round(sum(coalesce(c.output_tokens, 0)::HUGEINT)::DOUBLE * any_value(r.rate))::HUGEINT,
             9223372036854775807)::BIGINT
FROM rollup_counts_1m c JOIN rollup_keys k ON k.key_id = c.key_id JOIN model_burndown() r ON r.model = k.model
WHERE c.bucket >= $lo AND c.bucket < $hi
  AND date_trunc('hour', c.bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY c.bucket, k.tenant, k.model, k.region;
