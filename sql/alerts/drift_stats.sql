-- drift_stats: per alert group, the statistics of every drift metric on two sides: the
-- `current` window [hi - window, hi) and the `baseline`, the same clock window on each
-- of the previous baseline_days days ([hi - d days - window, hi - d days), d = 1..days),
-- pooled. Calls were read through plausible_calls, so token counts outside the token bound
-- are NULL as in the rollups. Latency, speed, tokens, finish reasons and response models
-- count successful calls only (a failed call's timings and counts are not the model's
-- behaviour); attempts and errors count every call. `*_n` is the sample behind each
-- statistic. A call in two windows (window_minutes above a day) counts in both.
-- A group key not in the rule's `by` is folded to NULL.
-- The calls are those drift_fill_calls.sql put in drift_window_calls for the combination.
-- params: $combo = the window length and baseline days, $finish_reason = the finish reason whose share is counted (case-insensitive), $by_tenant, $by_route, $by_workflow, $by_model, $by_region = whether the rule groups by that key
-- grain: one row per group and side with at least one call in that side's windows.
WITH c AS (
    SELECT CASE WHEN d = 0 THEN 'current' ELSE 'baseline' END AS side, *, status = 'ok' AS ok
    FROM drift_window_calls
    WHERE combo = $combo
)
SELECT
    CASE WHEN $by_tenant THEN tenant END AS tenant,
    CASE WHEN $by_route THEN route END AS route,
    CASE WHEN $by_workflow THEN workflow END AS workflow,
    CASE WHEN $by_model THEN model END AS model,
    CASE WHEN $by_region THEN region END AS region,
    side,
    count(*) AS attempts,
    count(*) FILTER (WHERE status = 'error') AS errors,
    count(ttft_ms) FILTER (WHERE ok) AS ttft_n,
    quantile_cont(ttft_ms, 0.95) FILTER (WHERE ok) AS ttft_p95,
    count(ttlt_ms) FILTER (WHERE ok) AS ttlt_n,
    quantile_cont(ttlt_ms, 0.95) FILTER (WHERE ok) AS ttlt_p95,
    count(otps) FILTER (WHERE ok) AS otps_n,
    quantile_cont(otps, 0.5) FILTER (WHERE ok) AS otps_p50,
    -- the prompt a call sent, cached or not: a change in caching is not a change in size
    count(input_tokens) FILTER (WHERE ok) AS input_n,
    avg(input_tokens + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
        FILTER (WHERE ok) AS input_mean,
    count(output_tokens) FILTER (WHERE ok) AS output_n,
    avg(output_tokens) FILTER (WHERE ok) AS output_mean,
    sum(coalesce(cache_read_tokens, 0)) FILTER (WHERE ok AND input_tokens IS NOT NULL)::DOUBLE AS cache_read_sum,
    sum(input_tokens + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
        FILTER (WHERE ok)::DOUBLE AS prompt_sum,
    count(finish_reason) FILTER (WHERE ok) AS finish_n,
    count(*) FILTER (WHERE ok AND lower(finish_reason) = lower($finish_reason)) AS finish_hits,
    count(response_model) FILTER (WHERE ok) AS model_n,
    histogram(response_model) FILTER (WHERE ok AND response_model IS NOT NULL) AS response_models
FROM c
GROUP BY ALL
