-- cloudwatch_throttles: Bedrock's own attempts and InvocationThrottles per model and region
-- in one sliding window, from the CloudWatch AWS/Bedrock poller (bedrock_metrics_1m, one
-- row per minute). A minute counts when it starts inside [$lo, $hi), so an evaluation as of a
-- past time sees only minutes that had begun by then. CloudWatch's ModelId may be a profile
-- id (us.anthropic...); it is named as the llm_calls model with the same price key seen in the
-- last day, so its groups meet the calls' groups; else by the ModelId itself.
-- params: $lo = window start, $hi = window end (exclusive), $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group with at least one attempt in the window.
WITH cw AS (
    SELECT CASE WHEN $by_model THEN price_key(model_id) END AS mkey,
           CASE WHEN $by_model THEN min(model_id) END AS model_id,
           CASE WHEN $by_region THEN region END AS region,
           (sum(coalesce(invocations, 0)) + sum(coalesce(invocation_throttles, 0)))::BIGINT AS requests,
           sum(coalesce(invocation_throttles, 0))::BIGINT AS throttles
    FROM bedrock_metrics_1m
    WHERE ts >= $lo AND ts < $hi
    GROUP BY ALL
), names AS (
    SELECT price_key(model) AS mkey, min(model) AS model
    FROM llm_calls
    WHERE $by_model AND ts >= $lo - INTERVAL 1 DAY AND ts < $hi AND model IS NOT NULL
    GROUP BY 1
)
SELECT CASE WHEN $by_model THEN coalesce(n.model, cw.model_id) END AS model, cw.region,
       cw.requests, cw.throttles
FROM cw LEFT JOIN names n ON n.mkey = cw.mkey
WHERE cw.requests > 0
