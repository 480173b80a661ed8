-- 0005_token_bound: the token counts rollups and cost queries trust. Ingest refuses a count
-- outside [0, ingest.max_tokens_per_call]; a call stored before that check (or by any
-- other writer) with such a count is read with all its counts, OTPS and cost NULL, so
-- one hostile row can neither overflow a sum nor stop the rollups of every tenant.
-- The bound in force is the one the last rollup run applied, kept in `watermarks` under
-- 'rollup.max_tokens_per_call' (analytics/rollups.py; a new bound rewrites every
-- window); before any run it is the documented default (collector/settings.py).

CREATE MACRO token_bound() AS
    coalesce((SELECT TRY_CAST(value AS BIGINT) FROM watermarks
              WHERE name = 'rollup.max_tokens_per_call'), 100000000);

-- llm_calls with ts in [lo, hi), with `implausible_tokens` set and every count NULL when
-- any count is negative or above token_bound(): one garbage count makes the call's whole
-- usage suspect, and a partial count would understate its cost without saying so.
CREATE MACRO plausible_calls(lo, hi) AS TABLE
SELECT * REPLACE (
           CASE WHEN implausible_tokens THEN NULL ELSE input_tokens END AS input_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE cache_read_tokens END AS cache_read_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE cache_write_tokens END AS cache_write_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE output_tokens END AS output_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE reasoning_tokens END AS reasoning_tokens,
           CASE WHEN implausible_tokens THEN NULL ELSE otps END AS otps)
FROM (SELECT *,
             -- least/greatest skip NULLs; a call with no counts at all is plausible
             coalesce(least(input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
                            reasoning_tokens) < 0
                      OR greatest(input_tokens, cache_read_tokens, cache_write_tokens,
                                  output_tokens, reasoning_tokens) > token_bound(),
                      false) AS implausible_tokens
      FROM llm_calls WHERE ts >= lo AND ts < hi);

-- As in 0003, but the Provisioned Throughput hours share their cost over plausible counts.
CREATE OR REPLACE MACRO class_rates(lo, hi) AS TABLE
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
           sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
               + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS tokens,
           count(*) AS calls
    FROM plausible_calls(lo, hi) c JOIN ptc
      ON price_class(c.model, c.region, c.inference_profile, c.operation) = ptc.pclass
     AND c.ts >= ptc.valid_from AND (ptc.valid_to IS NULL OR c.ts < ptc.valid_to)
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

-- As in 0003, over plausible_calls: a call with implausible counts has cost NULL (unknown,
-- counted as unpriced, never $0), and its `implausible_tokens` flag says why. Token counts
-- times DOUBLE rates are DOUBLE, so no product overflows.
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
