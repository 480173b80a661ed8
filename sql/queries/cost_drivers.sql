-- cost_drivers: per group over [from, to), where the money goes, read from the calls
-- themselves (llm_calls priced by call_costs as the rollups price them; not the rollups,
-- so it scans the range's calls). docs/cost.md explains each driver:
--   long prompts: ok calls whose prompt tokens (input + cache read + cache write) are above
--     the group's p90 of ok calls, their cost and share of the group's cost;
--   large outputs: the same for output tokens;
--   unserved attempts (retries and fallbacks): calls whose status is error or throttled,
--     which did not serve the answer; retried = another call of the same trace followed,
--     fallback = that next call was on another model. An ok call is never counted: a
--     workflow's second step and a regeneration look alike in llm_calls;
--   poor cache use: cacheable share (cache read + cache write) / prompt tokens against
--     cache-read share (cache read / prompt tokens), and the saving had every cache write
--     been a read (cache-write tokens x (cache-write rate - cache-read rate), on-demand
--     prices only: a Provisioned Throughput hour costs the same either way);
--   expensive models on short requests: a group whose median request (prompt + output
--     tokens of ok calls) is under 1,000 tokens is short; each model serving it at a cost
--     per token above the cheapest text model of the range (the lowest cost per token of
--     any model with output tokens, embeddings excluded so) adds its excess: its cost minus
--     its tokens at the cheapest model's cost per token.
-- params: from, to, by, where
-- keys: tenant, route, workflow, model, region, prompt_version
-- grain: one row per group of the keys in `by`; key columns not in `by` are NULL.
WITH priced AS (
    -- whole hours priced together (a Provisioned Throughput hour is shared by its calls);
    -- the next call of the trace is looked for among all of them, before any filter
    SELECT c.*,
           CASE WHEN c.input_tokens IS NOT NULL OR c.cache_read_tokens IS NOT NULL
                     OR c.cache_write_tokens IS NOT NULL
                THEN coalesce(c.input_tokens, 0)::HUGEINT + coalesce(c.cache_read_tokens, 0)
                     + coalesce(c.cache_write_tokens, 0) END AS prompt_tokens,
           CASE WHEN c.trace_id IS NOT NULL
                THEN lead(c.model) OVER (PARTITION BY c.trace_id ORDER BY c.ts, c.call_id) END AS next_model,
           CASE WHEN c.trace_id IS NOT NULL
                THEN lead(c.call_id) OVER (PARTITION BY c.trace_id ORDER BY c.ts, c.call_id) END AS next_call
    FROM call_costs($hour_lo, $hour_hi) c
), calls AS (
    SELECT CASE WHEN $by_tenant THEN tenant END AS g_tenant, CASE WHEN $by_route THEN route END AS g_route,
           CASE WHEN $by_workflow THEN workflow END AS g_workflow, CASE WHEN $by_model THEN model END AS g_model,
           CASE WHEN $by_region THEN region END AS g_region,
           CASE WHEN $by_prompt_version THEN prompt_version END AS g_prompt_version,
           p.*, p.status <> 'ok' AS unserved,
           p.prompt_tokens + coalesce(p.output_tokens, 0) AS request_tokens
    FROM priced p
    WHERE ts >= $lo AND ts < $hi
      AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
      AND key_ok($f_model, model) AND key_ok($f_region, region)
      AND key_ok($f_prompt_version, prompt_version)
), groups AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, g_prompt_version,
           quantile_cont(prompt_tokens, 0.9) FILTER (WHERE NOT unserved) AS prompt_p90,
           quantile_cont(output_tokens, 0.9) FILTER (WHERE NOT unserved) AS output_p90,
           quantile_cont(request_tokens, 0.5) FILTER (WHERE NOT unserved) AS request_median
    FROM calls GROUP BY ALL
), marked AS (
    SELECT c.*, g.prompt_p90, g.output_p90, g.request_median,
           NOT c.unserved AND c.prompt_tokens > g.prompt_p90 AS long_prompt,
           NOT c.unserved AND c.output_tokens > g.output_p90 AS large_output
    FROM calls c JOIN groups g
      ON c.g_tenant IS NOT DISTINCT FROM g.g_tenant AND c.g_route IS NOT DISTINCT FROM g.g_route
     AND c.g_workflow IS NOT DISTINCT FROM g.g_workflow AND c.g_model IS NOT DISTINCT FROM g.g_model
     AND c.g_region IS NOT DISTINCT FROM g.g_region
     AND c.g_prompt_version IS NOT DISTINCT FROM g.g_prompt_version
), rates AS (
    SELECT * FROM class_rates($hour_lo, $hour_hi) WHERE kind IN ('exact', 'loose')
), cache_saving AS (
    -- the rate choice of call_costs (exact price key first, then the loose key)
    SELECT m.call_id,
           m.cache_write_tokens * (coalesce(e.cache_write_rate, l.cache_write_rate)
                                   - coalesce(e.cache_read_rate, l.cache_read_rate))
               * coalesce(e.factor, l.factor) AS saving_usd
    FROM marked m
    LEFT JOIN rates e ON e.kind = 'exact' AND e.pclass = price_class(m.model, m.region, m.inference_profile, m.operation)
     AND m.ts >= e.lo AND m.ts < e.hi
    LEFT JOIN rates l ON l.kind = 'loose' AND e.pclass IS NULL
     AND l.pclass = price_class(m.model, m.region, m.inference_profile, m.operation)
     AND m.ts >= l.lo AND m.ts < l.hi
    WHERE m.cache_write_tokens > 0 AND m.price_source IS DISTINCT FROM 'provisioned' AND m.cost_usd IS NOT NULL
), model_price AS (
    -- cost per token of each text model over the range (calls with output tokens, priced)
    SELECT model, sum(cost_usd) / sum(request_tokens) AS usd_per_token
    FROM calls WHERE output_tokens > 0 AND cost_usd IS NOT NULL
    GROUP BY model HAVING sum(request_tokens) > 0
), cheapest AS (
    SELECT arg_min(model, usd_per_token) AS model, min(usd_per_token) AS usd_per_token FROM model_price
), per_model AS (
    -- each model serving a short group at more per token than the cheapest text model
    SELECT m.g_tenant, m.g_route, m.g_workflow, m.g_model, m.g_region, m.g_prompt_version, m.model,
           sum(m.cost_usd) - sum(m.request_tokens) * any_value(ch.usd_per_token) AS excess_usd
    FROM marked m CROSS JOIN cheapest ch
    WHERE m.request_median < 1000 AND m.output_tokens > 0 AND m.cost_usd IS NOT NULL
    GROUP BY ALL
    HAVING sum(m.cost_usd) / nullif(sum(m.request_tokens), 0) > any_value(ch.usd_per_token)
), expensive AS (
    SELECT g_tenant, g_route, g_workflow, g_model, g_region, g_prompt_version,
           list(model ORDER BY excess_usd DESC, model) AS models, sum(excess_usd) AS excess_usd
    FROM per_model GROUP BY ALL
), t AS (
    SELECT m.g_tenant, m.g_route, m.g_workflow, m.g_model, m.g_region, m.g_prompt_version,
           count(*)::BIGINT AS requests, sum(m.cost_usd)::DOUBLE AS cost_usd,
           count(*) FILTER (WHERE m.cost_usd IS NULL)::BIGINT AS unpriced_requests,
           any_value(m.prompt_p90) AS prompt_tokens_p90,
           count(*) FILTER (WHERE m.long_prompt)::BIGINT AS long_prompt_calls,
           coalesce(sum(m.cost_usd) FILTER (WHERE m.long_prompt), 0)::DOUBLE AS long_prompt_cost_usd,
           any_value(m.output_p90) AS output_tokens_p90,
           count(*) FILTER (WHERE m.large_output)::BIGINT AS large_output_calls,
           coalesce(sum(m.cost_usd) FILTER (WHERE m.large_output), 0)::DOUBLE AS large_output_cost_usd,
           count(*) FILTER (WHERE m.unserved)::BIGINT AS unserved_attempts,
           count(*) FILTER (WHERE m.unserved AND m.next_call IS NOT NULL)::BIGINT AS retried_attempts,
           count(*) FILTER (WHERE m.unserved AND m.next_call IS NOT NULL
                                  AND m.next_model IS DISTINCT FROM m.model)::BIGINT AS fallback_attempts,
           coalesce(sum(m.cost_usd) FILTER (WHERE m.unserved), 0)::DOUBLE AS unserved_cost_usd,
           TRY_CAST(sum(m.prompt_tokens) AS BIGINT) AS prompt_tokens,
           TRY_CAST(sum(m.cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(m.cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           coalesce(sum(s.saving_usd), 0)::DOUBLE AS cache_saving_usd,
           any_value(m.request_median) AS request_tokens_median
    FROM marked m LEFT JOIN cache_saving s ON s.call_id = m.call_id
    GROUP BY ALL
)
SELECT t.g_tenant AS tenant, t.g_route AS route, t.g_workflow AS workflow, t.g_model AS model,
       t.g_region AS region, t.g_prompt_version AS prompt_version,
       t.requests, t.cost_usd, t.unpriced_requests,
       t.prompt_tokens_p90, t.long_prompt_calls, t.long_prompt_cost_usd,
       t.long_prompt_cost_usd / nullif(t.cost_usd, 0) AS long_prompt_share,
       t.output_tokens_p90, t.large_output_calls, t.large_output_cost_usd,
       t.large_output_cost_usd / nullif(t.cost_usd, 0) AS large_output_share,
       t.unserved_attempts, t.retried_attempts, t.fallback_attempts, t.unserved_cost_usd,
       t.unserved_cost_usd / nullif(t.cost_usd, 0) AS unserved_share,
       t.prompt_tokens, t.cache_read_tokens, t.cache_write_tokens,
       (coalesce(t.cache_read_tokens, 0)::HUGEINT + coalesce(t.cache_write_tokens, 0))
           / nullif(t.prompt_tokens, 0) AS cacheable_share,
       coalesce(t.cache_read_tokens, 0) / nullif(t.prompt_tokens, 0) AS cache_read_share,
       t.cache_saving_usd,
       t.request_tokens_median, coalesce(t.request_tokens_median < 1000, false) AS short_requests,
       ch.model AS cheapest_model, 1000 * ch.usd_per_token AS cheapest_usd_per_1k_tokens,
       coalesce(e.models, []::VARCHAR[]) AS expensive_models,
       coalesce(e.excess_usd, 0)::DOUBLE AS expensive_model_excess_usd
FROM t CROSS JOIN (SELECT * FROM cheapest) ch
LEFT JOIN expensive e
  ON t.g_tenant IS NOT DISTINCT FROM e.g_tenant AND t.g_route IS NOT DISTINCT FROM e.g_route
 AND t.g_workflow IS NOT DISTINCT FROM e.g_workflow AND t.g_model IS NOT DISTINCT FROM e.g_model
 AND t.g_region IS NOT DISTINCT FROM e.g_region AND t.g_prompt_version IS NOT DISTINCT FROM e.g_prompt_version
ORDER BY t.cost_usd DESC NULLS LAST, tenant, route, workflow, model, region, prompt_version;
