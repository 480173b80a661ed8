-- trace_search: the traces (requests) that started in [from, to), newest first, for the
-- trace explorer: root span name, attribution, LLM calls, tokens by kind, cost (every call
-- priced as the rollups price it, through call_costs, retries and fallbacks included),
-- duration (first span start to last span end) and status: `error` when a call failed or
-- the root span says error, else `throttled` when a call was throttled, else `ok`.
-- A trace's root is its earliest span whose parent is not among its spans (a root, or the
-- child of a remote parent); its start decides the range it falls in. Spans and calls are
-- read up to an hour either side of the range, so traces up to an hour long are whole.
-- tenant, route and workflow filter on the root span; model, region, prompt_version,
-- feature and user_id keep the traces with a call matching them all. `trace_id` and
-- `request_id` (a Bedrock request id of one of its calls) narrow to one trace.
-- params: from, to, where, status, min_duration_ms, min_cost_usd, trace_id, request_id, limit
-- keys: tenant, route, workflow, model, region, prompt_version, feature, user_id
-- columns: trace_id, start_time, root_name, service_name, tenant, route, workflow, calls, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, tokens, cost_usd, unpriced_calls, duration_ms, status, models
-- grain: one row per trace, at most $limit rows, newest first.
WITH s AS (
    SELECT trace_id, span_id, parent_span_id, name, service_name, start_time, end_time, status_code,
           tenant, route, workflow
    FROM spans
    WHERE start_time >= $lo - INTERVAL 1 HOUR AND start_time < $hi + INTERVAL 1 HOUR
      AND ($trace_id IS NULL OR trace_id = lower($trace_id))
), tops AS (
    SELECT s.* FROM s ANTI JOIN s p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
), t AS (
    SELECT trace_id, min(start_time) AS start_time,
           arg_min(span_id, (start_time, span_id)) AS root_span_id,
           arg_min(name, (start_time, span_id)) AS root_name,
           arg_min(service_name, (start_time, span_id)) AS service_name,
           arg_min(tenant, (start_time, span_id)) AS tenant,
           arg_min(route, (start_time, span_id)) AS route,
           arg_min(workflow, (start_time, span_id)) AS workflow,
           arg_min(status_code, (start_time, span_id)) = 'error' AS root_error
    FROM tops
    GROUP BY trace_id
    HAVING min(start_time) >= $lo AND min(start_time) < $hi
), t_end AS (
    SELECT trace_id, max(end_time) AS end_time FROM s WHERE trace_id IN (SELECT trace_id FROM t) GROUP BY trace_id
), c AS (
    SELECT trace_id, count(*) AS calls, sum(cost_usd) AS cost_usd,
           count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
           -- counts come bounded through call_costs (plausible_calls): NULL for implausible ones
           TRY_CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
           TRY_CAST(sum(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
           TRY_CAST(sum(cache_write_tokens) AS BIGINT) AS cache_write_tokens,
           TRY_CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
           TRY_CAST(sum(coalesce(input_tokens, 0)::HUGEINT + coalesce(cache_read_tokens, 0)
                        + coalesce(cache_write_tokens, 0) + coalesce(output_tokens, 0)) AS BIGINT) AS tokens,
           bool_or(status = 'error') AS any_error, bool_or(status = 'throttled') AS any_throttled,
           list(DISTINCT model ORDER BY model) FILTER (WHERE model IS NOT NULL) AS models,
           list(request_id) FILTER (WHERE request_id IS NOT NULL) AS request_ids,
           bool_or(key_ok($f_model, coalesce(model, 'unknown')) AND key_ok($f_region, coalesce(region, 'unknown'))
                   AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature)
                   AND key_ok($f_user_id, user_id)) AS call_match
    FROM call_costs($hour_lo, $hour_hi + INTERVAL 1 HOUR)
    WHERE trace_id IN (SELECT trace_id FROM t)
    GROUP BY trace_id
), r AS (
    SELECT t.trace_id, t.start_time, t.root_name, t.service_name, t.tenant, t.route, t.workflow,
           coalesce(c.calls, 0) AS calls, c.input_tokens, c.cache_read_tokens, c.cache_write_tokens,
           c.output_tokens, c.tokens, c.cost_usd, coalesce(c.unpriced_calls, 0) AS unpriced_calls,
           date_diff('microsecond', t.start_time, e.end_time) / 1000.0 AS duration_ms,
           CASE WHEN coalesce(c.any_error, false) OR t.root_error THEN 'error'
                WHEN coalesce(c.any_throttled, false) THEN 'throttled' ELSE 'ok' END AS status,
           coalesce(c.models, []) AS models, c.request_ids,
           coalesce(c.call_match, $f_model IS NULL AND $f_region IS NULL AND $f_prompt_version IS NULL
                                  AND $f_feature IS NULL AND $f_user_id IS NULL) AS call_match
    FROM t JOIN t_end e USING (trace_id) LEFT JOIN c USING (trace_id)
    WHERE key_ok($f_tenant, t.tenant) AND key_ok($f_route, t.route) AND key_ok($f_workflow, t.workflow)
)
SELECT * EXCLUDE (request_ids, call_match)
FROM r
WHERE call_match
  AND ($status IS NULL OR status = $status)
  AND ($min_duration_ms IS NULL OR duration_ms >= $min_duration_ms)
  AND ($min_cost_usd IS NULL OR cost_usd >= $min_cost_usd)
  AND ($request_id IS NULL OR list_contains(request_ids, $request_id))
ORDER BY start_time DESC, trace_id
LIMIT $limit;
