-- cloudwatch_rates: Bedrock's own view per model and region over [from, to), from the
-- CloudWatch AWS/Bedrock metrics poller: invocations, throttles (including requests
-- rejected before invocation, which no log or span sees), client/server errors, rates.
-- params: from, to, where
-- requires: bedrock_metrics_1m
-- columns: model_id, region, invocations, invocation_throttles, client_errors, server_errors, throttle_rate, error_rate
-- grain: one row per CloudWatch ModelId x region.
SELECT model_id, region,
       sum(invocations)::BIGINT AS invocations,
       sum(invocation_throttles)::BIGINT AS invocation_throttles,
       sum(invocation_client_errors)::BIGINT AS client_errors,
       sum(invocation_server_errors)::BIGINT AS server_errors,
       sum(invocation_throttles) / nullif(sum(invocations) + sum(invocation_throttles), 0)
           AS throttle_rate,
       (sum(invocation_client_errors) + sum(invocation_server_errors))
           / nullif(sum(invocations), 0) AS error_rate
FROM bedrock_metrics_1m
WHERE ts >= $lo AND ts < $hi AND key_ok($f_region, region)
  AND ($f_model IS NULL
       OR list_contains(list_transform($f_model, lambda m: price_key(m)), price_key(model_id)))
GROUP BY ALL
ORDER BY invocations DESC NULLS LAST, model_id, region;
