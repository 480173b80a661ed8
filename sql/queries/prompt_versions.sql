-- prompt_versions: each workflow's prompt versions side by side over [from, to): calls
-- (requests), traces, cost, cost per priced request and per trace, prompt tokens (input +
-- cache read + cache write) and output tokens per request, TTFT and TTLT p50/p95 and the
-- error and throttle rates. Read from llm_calls priced by call_costs, as cost_calls does
-- (the rollups keep no prompt_version), so it scans the range's calls; the percentiles are
-- exact over the calls' own latencies.
-- params: from, to, where
-- keys: tenant, route, workflow, model, region, prompt_version, feature, user_id
-- grain: one row per workflow x prompt_version (NULL: calls that named no version).
WITH t AS (
    SELECT workflow, prompt_version,
           count(*)::BIGINT AS requests,
           count(DISTINCT trace_id)::BIGINT AS traces,
           sum(cost_usd)::DOUBLE AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL)::BIGINT AS unpriced_requests,
           sum(cost_usd) FILTER (WHERE trace_id IS NOT NULL)::DOUBLE AS traced_cost_usd,
           -- token sums added as HUGEINT: each fits BIGINT, their total may not
           sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
               + coalesce(cache_write_tokens, 0)) AS prompt_tokens,
           count(*) FILTER (WHERE input_tokens IS NOT NULL OR cache_read_tokens IS NOT NULL
                              OR cache_write_tokens IS NOT NULL)::BIGINT AS prompt_token_requests,
           sum(output_tokens)::HUGEINT AS output_tokens,
           count(output_tokens)::BIGINT AS output_token_requests,
           quantile_cont(ttft_ms, 0.5) AS ttft_ms_p50, quantile_cont(ttft_ms, 0.95) AS ttft_ms_p95,
           quantile_cont(ttlt_ms, 0.5) AS ttlt_ms_p50, quantile_cont(ttlt_ms, 0.95) AS ttlt_ms_p95,
           count(*) FILTER (WHERE status = 'error')::BIGINT AS errors,
           count(*) FILTER (WHERE status = 'throttled')::BIGINT AS throttles,
           min(ts) AS first_seen, max(ts) AS last_seen
    -- whole hours priced together (a Provisioned Throughput hour is shared by its calls),
    -- then only the calls of the range
    FROM call_costs($hour_lo, $hour_hi)
    WHERE ts >= $lo AND ts < $hi
      AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
      AND key_ok($f_model, model) AND key_ok($f_region, region)
      AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature)
      AND key_ok($f_user_id, user_id)
    GROUP BY ALL
)
SELECT workflow, prompt_version, requests, traces, cost_usd,
       cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_request_usd,
       1000 * cost_usd / nullif(requests - unpriced_requests, 0) AS cost_per_1k_requests_usd,
       -- a trace's cost counts all of its calls (retries and fallbacks too); calls without a
       -- trace are left out of it
       traced_cost_usd / nullif(traces, 0) AS cost_per_trace_usd,
       unpriced_requests,
       prompt_tokens / nullif(prompt_token_requests, 0) AS input_tokens_per_request,
       output_tokens / nullif(output_token_requests, 0) AS output_tokens_per_request,
       ttft_ms_p50, ttft_ms_p95, ttlt_ms_p50, ttlt_ms_p95,
       errors, throttles,
       errors / requests AS error_rate, throttles / requests AS throttle_rate,
       first_seen, last_seen
FROM t
ORDER BY workflow, first_seen, prompt_version;
