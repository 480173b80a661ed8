-- capacity: per group over [from, to): peak-minute and average RPM and TPM (TPM counts
-- prompt tokens incl. cache reads/writes plus output tokens), the application shape
-- (mean and p95 prompt and output tokens per request) and throttles. Peaks come from
-- rollup_1m, the only grain with minutes; the rest from the tiled rollups.
-- params: from, to, by, where
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH t AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           sum(requests)::BIGINT AS requests, sum(throttles)::BIGINT AS throttles,
           sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0)
               + coalesce(cache_write_tokens, 0))::BIGINT AS prompt_tokens,
           sum(coalesce(output_tokens, 0))::BIGINT AS output_tokens,
           sum(prompt_token_requests)::BIGINT AS prompt_token_requests,
           sum(output_token_requests)::BIGINT AS output_token_requests
    FROM keyed_span($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi,
    $by_tenant, $by_route, $by_workflow, $by_model, $by_region,
    $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
    GROUP BY ALL
), peak AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           max(requests)::BIGINT AS peak_rpm, max(tokens)::BIGINT AS peak_tpm
    FROM keyed_minutes($lo, $hi, $by_tenant, $by_route, $by_workflow, $by_model, $by_region,
                       $f_tenant, $f_route, $f_workflow, $f_model, $f_region)
    GROUP BY ALL
), p AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region,
           max(p95) FILTER (WHERE metric = 'prompt_tokens') AS input_tokens_per_request_p95,
           max(p95) FILTER (WHERE metric = 'output_tokens') AS output_tokens_per_request_p95
    FROM span_percentiles($m1_lo, $m1_hi, $m2_lo, $m2_hi, $h1_lo, $h1_hi, $h2_lo, $h2_hi, $d_lo, $d_hi,
    $by_tenant, $by_route, $by_workflow, $by_model, $by_region,
    $f_tenant, $f_route, $f_workflow, $f_model, $f_region, ['prompt_tokens', 'output_tokens'])
    GROUP BY ALL
)
SELECT t.g_tenant AS tenant, t.g_route AS route, t.g_workflow AS workflow,
       t.g_model AS model, t.g_region AS region, t.requests, t.throttles,
       t.throttles / nullif(t.requests, 0) AS throttle_rate,
       peak.peak_rpm, t.requests / $minutes AS avg_rpm,
       peak.peak_tpm, (t.prompt_tokens + t.output_tokens) / $minutes AS avg_tpm,
       t.prompt_tokens / nullif(t.prompt_token_requests, 0) AS input_tokens_per_request_mean,
       p.input_tokens_per_request_p95,
       t.output_tokens / nullif(t.output_token_requests, 0) AS output_tokens_per_request_mean,
       p.output_tokens_per_request_p95
FROM t
LEFT JOIN peak
  ON t.g_tenant IS NOT DISTINCT FROM peak.g_tenant AND t.g_route IS NOT DISTINCT FROM peak.g_route
 AND t.g_workflow IS NOT DISTINCT FROM peak.g_workflow
 AND t.g_model IS NOT DISTINCT FROM peak.g_model AND t.g_region IS NOT DISTINCT FROM peak.g_region
LEFT JOIN p
  ON t.g_tenant IS NOT DISTINCT FROM p.g_tenant AND t.g_route IS NOT DISTINCT FROM p.g_route
 AND t.g_workflow IS NOT DISTINCT FROM p.g_workflow AND t.g_model IS NOT DISTINCT FROM p.g_model
 AND t.g_region IS NOT DISTINCT FROM p.g_region
ORDER BY peak.peak_rpm DESC NULLS LAST, tenant, route, workflow, model, region;
