-- insert_capacity_1m: requests and tokens (input + cache read + cache write + output) per
-- minute x tenant x model x region for every dirty hour, from the minute rows just written;
-- peak RPM and TPM by tenant, model and region read this table or the day peaks built
-- from it (quota is per minute, so capacity is read at minute grain).
-- Runs after insert_counts_1m.sql and delete_capacity_1m.sql.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP, hour-aligned)
-- grain: minute
INSERT INTO rollup_capacity_1m
SELECT c.bucket, k.tenant, k.model, k.region, sum(c.requests),
       -- added as HUGEINT, since four BIGINT sums can exceed BIGINT together; then held at
       -- the BIGINT maximum (a peak is then "at least this"), never a failed run
       least(sum(coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_read_tokens, 0)
                 + coalesce(c.cache_write_tokens, 0) + coalesce(c.output_tokens, 0)),
             9223372036854775807)::BIGINT
FROM rollup_counts_1m c JOIN rollup_keys k ON k.key_id = c.key_id
WHERE c.bucket >= $lo AND c.bucket < $hi
  AND date_trunc('hour', c.bucket) IN (SELECT bucket FROM rollup_dirty WHERE grain = 'hour')
GROUP BY ALL;
