-- latency_vs_output: LLM calls of [from, to) as points (output tokens, TTLT) for a
-- scatter of latency against output length, by model: a sample of at most $limit calls,
-- the same for the same data (ordered by a hash of call_id, so any grouping sees an
-- unbiased spread rather than the first or last calls). Only calls that succeeded and
-- report both output tokens and TTLT; counts through plausible_calls. `sampled_from` is
-- how many calls qualified.
-- params: from, to, where, limit
-- keys: tenant, route, workflow, model, region, prompt_version, feature, user_id
-- columns: call_id, trace_id, ts, model, tenant, route, output_tokens, ttlt_ms, ttft_ms, streaming, sampled_from
-- grain: one row per sampled call, at most $limit rows.
WITH c AS (
    SELECT call_id, trace_id, ts, coalesce(model, 'unknown') AS model, tenant, route, output_tokens, ttlt_ms,
           ttft_ms, streaming
    FROM plausible_calls($lo, $hi)
    WHERE status = 'ok' AND output_tokens > 0 AND ttlt_ms IS NOT NULL
      AND key_ok($f_tenant, tenant) AND key_ok($f_route, route) AND key_ok($f_workflow, workflow)
      AND key_ok($f_model, coalesce(model, 'unknown')) AND key_ok($f_region, coalesce(region, 'unknown'))
      AND key_ok($f_prompt_version, prompt_version) AND key_ok($f_feature, feature) AND key_ok($f_user_id, user_id)
)
SELECT *, count(*) OVER () AS sampled_from
FROM c
ORDER BY hash(call_id), call_id
LIMIT $limit;
