-- upsert_price_classes: add to rollup_price_classes every price class of the calls in
-- [$lo, $hi) that it does not hold yet, with its price keys, call scope and batch flag
-- (sql/macros/040_price_keys.sql), so the regular expressions run once per class and
-- reads price token sums by joining one id. Returns the classes added: any new one means
-- rollup_rates is rebuilt in the same run.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP)
-- grain: price class
INSERT OR IGNORE INTO rollup_price_classes
SELECT pclass, model, region, inference_profile, operation, price_key(model), price_loose_key(model),
       call_scope(inference_profile), is_batch(operation)
FROM (SELECT pclass, any_value(model) AS model, any_value(region) AS region,
             any_value(inference_profile) AS inference_profile, any_value(operation) AS operation
      FROM (SELECT price_class(model, region, inference_profile, operation) AS pclass, model,
                   region, inference_profile, operation
            FROM llm_calls WHERE ts >= $lo AND ts < $hi)
      GROUP BY pclass)
WHERE pclass NOT IN (SELECT pclass FROM rollup_price_classes);
