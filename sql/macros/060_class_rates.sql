-- class_rates: the rates of each price class seen in [lo, hi), per interval: `exact` from
-- the model's own price key, `loose` from its loose key (used only when no exact rate covers
-- a call), `pt` the Provisioned Throughput hours (pt_rates). Regular expressions run once
-- per class, not once per call.
-- params: none
-- grain: one row per price class x kind x interval.

-- pt_rates: the Provisioned Throughput hours of the classes in `classes` (a table with
-- pclass, pk = price_key(model) and region) over the calls in [lo, hi): a commitment's hour
-- is shared by plausible token count among the calls of the same model and region in that
-- hour (by call count when they had none). One rule for the rollups (which fix these costs
-- when they run: a read of one bucket cannot know its hour's total) and for call_costs.
-- grain: one row per price class x committed hour, with the rate per token (`rate`) or,
-- for an hour without tokens, the cost per call (`per_call`).
CREATE OR REPLACE MACRO pt_rates(classes, lo, hi) AS TABLE
WITH ptc AS (
    SELECT cls.pclass, cls.pk, cls.region, p.valid_from, p.valid_to,
           p.model_units * p.hourly_rate_per_unit AS hour_cost
    FROM query_table(classes) cls
    JOIN provisioned_throughput p ON cls.pk = price_key(p.model) AND cls.region = p.region
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
SELECT ptc.pclass, greatest(pth.hr, ptc.valid_from) AS lo,
       least(pth.hr + INTERVAL 1 HOUR, coalesce(ptc.valid_to, pth.hr + INTERVAL 1 HOUR)) AS hi,
       rate, CASE WHEN pth.tokens > 0 THEN NULL ELSE pth.hour_cost / pth.calls END AS per_call
FROM (SELECT *, CASE WHEN tokens > 0 THEN hour_cost / tokens ELSE 0.0 END AS rate FROM pth) pth
JOIN ptc ON ptc.pk = pth.pk AND ptc.region = pth.region
 AND pth.hr + INTERVAL 1 HOUR > ptc.valid_from AND (ptc.valid_to IS NULL OR pth.hr < ptc.valid_to);

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
SELECT 'pt', pclass, lo, hi, rate, rate, rate, rate, 1.0, per_call, 'provisioned'
FROM pt_rates(cls, lo, hi);
