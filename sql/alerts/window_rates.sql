-- window_rates: attempts, errors and throttles per alert group in one sliding window,
-- from llm_calls (ts >= $lo and ts < $hi, so an evaluation as of a past time sees only
-- what that time saw). A group key not in the rule's `by` is folded to NULL.
-- params: $lo = window start, $hi = window end (exclusive), $by_tenant, $by_route, $by_workflow, $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group with at least one call in the window.
SELECT
    CASE WHEN $by_tenant THEN tenant END AS tenant,
    CASE WHEN $by_route THEN route END AS route,
    CASE WHEN $by_workflow THEN workflow END AS workflow,
    CASE WHEN $by_model THEN model END AS model,
    CASE WHEN $by_region THEN region END AS region,
    count(*) AS requests,
    count(*) FILTER (WHERE status = 'error') AS errors,
    count(*) FILTER (WHERE status = 'throttled') AS throttles
FROM llm_calls
WHERE ts >= $lo AND ts < $hi
GROUP BY ALL
