-- stage_latency: where the time of a request goes, per route over the traces that started
-- in [from, to) (trace_search's rule: the earliest span without a received parent decides):
-- p50 and p95 over traces of the time spent in each stage of the request path (retrieval,
-- prompt, inference, guardrail, ... from span names and LLM calls by the [stages]
-- settings, through span_stage). A stage's time in a trace is the summed duration of its
-- spans; a span inside a span that has a stage counts toward that stage only, so nothing is
-- counted twice. `other` is the rest of the trace's duration (first span start to last span
-- end), never below 0. Percentiles are over the traces that have the stage; `traces` is how
-- many do, beside the route's trace count and its trace duration p50/p95.
-- tenant, route and workflow filter on the root span; model, region, prompt_version, feature
-- and user_id keep the traces with a call matching them all.
-- params: from, to, where, stages
-- keys: tenant, route, workflow, model, region, prompt_version, feature, user_id
-- columns: route, stage, stage_order, traces, route_traces, p50_ms, p95_ms, trace_p50_ms, trace_p95_ms
-- grain: one row per route x stage seen, routes by name, stages in the order of [stages] then other.
WITH RECURSIVE s AS (
    SELECT trace_id, span_id, parent_span_id, name, start_time, end_time, duration_ms, tenant, route, workflow
    FROM spans
    WHERE start_time >= $lo - INTERVAL 1 HOUR AND start_time < $hi + INTERVAL 1 HOUR
), tops AS (
    SELECT s.* FROM s ANTI JOIN s p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
), t AS (
    SELECT trace_id, arg_min(tenant, (start_time, span_id)) AS tenant,
           arg_min(route, (start_time, span_id)) AS route,
           arg_min(workflow, (start_time, span_id)) AS workflow
    FROM tops
    GROUP BY trace_id
    HAVING min(start_time) >= $lo AND min(start_time) < $hi
), calls AS (
    SELECT trace_id, span_id, model, region, prompt_version, feature, user_id
    FROM llm_calls
    WHERE ts >= $lo AND ts < $hi + INTERVAL 1 HOUR AND trace_id IN (SELECT trace_id FROM t)
), kept AS (
    SELECT t.* FROM t
    WHERE key_ok($f_tenant, t.tenant) AND key_ok($f_route, t.route) AND key_ok($f_workflow, t.workflow)
      AND (($f_model IS NULL AND $f_region IS NULL AND $f_prompt_version IS NULL AND $f_feature IS NULL
            AND $f_user_id IS NULL)
           OR t.trace_id IN (SELECT trace_id FROM calls
                             WHERE key_ok($f_model, coalesce(model, 'unknown'))
                               AND key_ok($f_region, coalesce(region, 'unknown'))
                               AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature)
                               AND key_ok($f_user_id, user_id)))
), k AS (
    SELECT s.*, span_stage(s.name, l.span_id IS NOT NULL, p.span_id IS NULL, $stage_names, $stage_patterns,
                           $llm_stage) AS own, p.span_id IS NULL AS is_top
    FROM s SEMI JOIN kept USING (trace_id)
    LEFT JOIN s p ON p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
    LEFT JOIN (SELECT DISTINCT trace_id, span_id FROM calls WHERE span_id IS NOT NULL) l
           ON l.trace_id = s.trace_id AND l.span_id = s.span_id
), walk(trace_id, span_id, stage, counted) AS (
    -- tops first; each child inherits the stage above it, or starts its own
    SELECT trace_id, span_id, own, own IS NOT NULL FROM k WHERE is_top
    UNION ALL
    SELECT c.trace_id, c.span_id, coalesce(w.stage, c.own), w.stage IS NULL AND c.own IS NOT NULL
    FROM k c JOIN walk w ON c.trace_id = w.trace_id AND c.parent_span_id = w.span_id
), per_stage AS (
    SELECT w.trace_id, w.stage, sum(k.duration_ms) AS ms
    FROM walk w JOIN k USING (trace_id, span_id)
    WHERE w.counted
    GROUP BY ALL
), per_trace AS (
    SELECT trace_id, date_diff('microsecond', min(start_time), max(end_time)) / 1000.0 AS ms
    FROM k GROUP BY trace_id
), with_other AS (
    SELECT trace_id, stage, ms FROM per_stage
    UNION ALL
    SELECT p.trace_id, 'other', greatest(p.ms - coalesce(sum(st.ms), 0), 0)
    FROM per_trace p LEFT JOIN per_stage st USING (trace_id)
    GROUP BY p.trace_id, p.ms
), routes AS (
    SELECT kept.route, count(*) AS route_traces,
           quantile_cont(p.ms, 0.5) AS trace_p50_ms, quantile_cont(p.ms, 0.95) AS trace_p95_ms
    FROM kept JOIN per_trace p USING (trace_id)
    GROUP BY kept.route
)
SELECT kept.route, o.stage, coalesce(list_position($stage_order, o.stage), len($stage_order) + 1) AS stage_order,
       count(*) AS traces, any_value(r.route_traces) AS route_traces,
       quantile_cont(o.ms, 0.5) AS p50_ms, quantile_cont(o.ms, 0.95) AS p95_ms,
       any_value(r.trace_p50_ms) AS trace_p50_ms, any_value(r.trace_p95_ms) AS trace_p95_ms
FROM with_other o JOIN kept USING (trace_id) JOIN routes r ON r.route = kept.route
GROUP BY kept.route, o.stage
ORDER BY kept.route, stage_order;
