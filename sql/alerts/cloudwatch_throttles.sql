-- cloudwatch_throttles: Bedrock's own attempts and InvocationThrottles per model and region
-- in one sliding window, from the CloudWatch AWS/Bedrock poller (bedrock_metrics_1m, one
-- row per minute). A minute counts when it starts inside [$lo, $hi), so an evaluation as of a
-- past time sees only minutes that had begun by then. CloudWatch's ModelId may be a profile
-- id (us.anthropic...); it is named as the model with the same price key among the calls of
-- the window and the rolled-up models, so its groups meet the calls' groups; else by the
-- ModelId itself. The whole statement is skipped when no minute of the window was polled.
-- params: $lo = window start, $hi = window end (exclusive), $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group with at least one attempt in the window.
WITH cw AS MATERIALIZED (
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
    FROM (SELECT DISTINCT model FROM rollup_keys
          UNION SELECT DISTINCT model FROM llm_calls WHERE ts >= $lo AND ts < $hi)
    WHERE $by_model AND model IS NOT NULL
    GROUP BY 1
)
SELECT CASE WHEN $by_model THEN coalesce(n.model, cw.model_id) END AS model, cw.region,
       cw.requests, cw.throttles
FROM cw LEFT JOIN names n ON n.mkey = cw.mkey
WHERE cw.requests > 0
