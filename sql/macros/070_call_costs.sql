-- call_costs: calls with ts in [lo, hi) and their cost in USD: on-demand tokens x
-- price_book rates (exact key first, then loose key), batch discount, or a Provisioned
-- Throughput hour shared by token count among the calls it served. NULL cost = no price
-- = unpriced. Over plausible_calls: a call with implausible counts has cost NULL (unknown,
-- counted as unpriced, never $0), and its `implausible_tokens` flag says why. Token counts
-- times DOUBLE rates are DOUBLE, so no product overflows.
-- params: none
-- grain: one row per llm_calls row with ts in [lo, hi).
CREATE OR REPLACE MACRO call_costs(lo, hi) AS TABLE
WITH r AS (SELECT * FROM class_rates(lo, hi))
SELECT c.* EXCLUDE (pclass), call_scope(c.inference_profile) AS scope,
       CASE WHEN NOT c.implausible_tokens THEN coalesce(pt.per_call,
         (coalesce(c.input_tokens, 0) * coalesce(pt.input_rate, e.input_rate, l.input_rate)
          + coalesce(c.cache_read_tokens, 0) * coalesce(pt.cache_read_rate, e.cache_read_rate, l.cache_read_rate)
          + coalesce(c.cache_write_tokens, 0) * coalesce(pt.cache_write_rate, e.cache_write_rate, l.cache_write_rate)
          + coalesce(c.output_tokens, 0) * coalesce(pt.output_rate, e.output_rate, l.output_rate))
         * coalesce(pt.factor, e.factor, l.factor)) END AS cost_usd,
       coalesce(pt.source, e.source, l.source) AS price_source
FROM (SELECT *, price_class(model, region, inference_profile, operation) AS pclass
      FROM plausible_calls(lo, hi)) c
LEFT JOIN (SELECT * FROM r WHERE kind = 'pt') pt
       ON pt.pclass = c.pclass AND c.ts >= pt.lo AND c.ts < pt.hi
LEFT JOIN (SELECT * FROM r WHERE kind = 'exact') e
       ON e.pclass = c.pclass AND c.ts >= e.lo AND c.ts < e.hi
LEFT JOIN (SELECT * FROM r WHERE kind = 'loose') l
       ON e.pclass IS NULL AND l.pclass = c.pclass AND c.ts >= l.lo AND c.ts < l.hi;
