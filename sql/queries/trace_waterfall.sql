-- trace_waterfall: every span of one trace for its waterfall: depth in the span tree
-- (0 for a span whose parent was not received), the stage it shows (span_stage by the
-- [stages] settings, inherited from the nearest span above it that has one, as
-- stage_latency counts time; `retry` for an LLM attempt that failed and was followed by another,
-- `fallback` for an attempt after a failed one on another model; `other` otherwise), and,
-- for a span that is an LLM call, the call: model, tokens by kind, TTFT, TTLT, cost
-- (through call_costs, as the rollups price it), status, and its attempt number (1, or 1 +
-- the failed attempts just before it among the trace's calls of the same kind: embeddings
-- apart from the others). Attributes and events are JSON text.
-- params: trace_id, stages
-- columns: trace_id, span_id, parent_span_id, name, kind, service_name, start_time, end_time, duration_ms, status_code, status_message, attributes, resource_attributes, events, depth, stage, call_id, request_id, operation, model, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, ttft_ms, ttlt_ms, otps, cost_usd, call_status, error_type, finish_reason, attempt, attempt_role
-- grain: one row per span of the trace, in start order.
WITH RECURSIVE s AS (
    SELECT * FROM spans WHERE trace_id = lower($trace_id)
), c AS (
    SELECT *, coalesce(operation, '') = 'embeddings' AS embedding
    FROM call_costs(
            (SELECT date_trunc('hour', min(ts)) FROM llm_calls WHERE trace_id = lower($trace_id)),
            (SELECT date_trunc('hour', max(ts)) + INTERVAL 1 HOUR FROM llm_calls WHERE trace_id = lower($trace_id)))
    WHERE trace_id = lower($trace_id) AND span_id IS NOT NULL
), runs AS (
    -- a run is a call that succeeded and the failed attempts just before it
    SELECT *, lag(status) OVER w AS prev_status, lag(model) OVER w AS prev_model,
           lead(call_id) OVER w IS NOT NULL AS followed,
           coalesce(count(*) FILTER (WHERE status = 'ok')
                    OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS run
    FROM c
    WINDOW w AS (PARTITION BY embedding ORDER BY ts, call_id)
), a AS (
    SELECT *, row_number() OVER (PARTITION BY embedding, run ORDER BY ts, call_id) AS attempt,
           CASE WHEN status <> 'ok' AND followed THEN 'retry'
                WHEN prev_status <> 'ok' AND prev_model IS DISTINCT FROM model THEN 'fallback' END AS attempt_role
    FROM runs
), k AS (
    SELECT s.span_id, s.parent_span_id, p.span_id IS NULL AS is_top,
           span_stage(s.name, a.call_id IS NOT NULL, p.span_id IS NULL, $stage_names, $stage_patterns,
                      $llm_stage) AS own
    FROM s LEFT JOIN s p ON p.span_id = s.parent_span_id LEFT JOIN a ON a.span_id = s.span_id
), tree(span_id, depth, stage) AS (
    -- each span inherits the stage above it, or has its own (as stage_latency counts time)
    SELECT span_id, 0, own FROM k WHERE is_top
    UNION ALL
    SELECT k.span_id, t.depth + 1, coalesce(t.stage, k.own) FROM k JOIN tree t ON k.parent_span_id = t.span_id
)
SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.service_name, s.start_time, s.end_time,
       s.duration_ms, s.status_code, s.status_message, s.attributes, s.resource_attributes, s.events, t.depth,
       coalesce(a.attempt_role, t.stage, 'other') AS stage,
       a.call_id, a.request_id, a.operation, a.model, a.input_tokens, a.cache_read_tokens, a.cache_write_tokens,
       a.output_tokens, a.reasoning_tokens, a.ttft_ms, a.ttlt_ms, a.otps, a.cost_usd, a.status AS call_status,
       a.error_type, a.finish_reason, a.attempt, a.attempt_role
FROM s JOIN tree t USING (span_id) LEFT JOIN a USING (span_id)
ORDER BY s.start_time, s.span_id;
