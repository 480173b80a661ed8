-- upsert_log_only_calls: invocation-log calls in `_merge_ids(request_id)` that no span
-- has claimed (none in `_traced`) become, or refresh, their own llm_calls row, source
-- 'bedrock_log', keyed by request id.
-- params: $1 = now (TIMESTAMP)
-- grain: one llm_calls row per unclaimed invocation log (request id)
INSERT INTO llm_calls BY NAME
SELECT
    b.request_id AS call_id,
    'bedrock_log' AS source,
    b.ts,
    b.request_id,
    coalesce(b.tenant, 'unattributed') AS tenant,
    coalesce(b.route, 'unattributed') AS route,
    coalesce(b.workflow, 'unattributed') AS workflow,
    b.feature, b.user_id, b.prompt_version, b.environment,
    b.operation,
    'aws.bedrock' AS provider,
    b.request_model,
    b.model,
    b.region,
    b.inference_profile,
    b.input_tokens, b.cache_read_tokens, b.cache_write_tokens, b.output_tokens,
    b.streaming, b.ttft_ms, b.ttlt_ms,
    otps(b.output_tokens, b.ttft_ms, b.ttlt_ms) AS otps,
    b.status, b.error_type, b.finish_reason,
    b.account_id, b.identity_arn, b.inference_region,
    $1 AS ingested_at
FROM bedrock_invocations b
JOIN _merge_ids m ON m.request_id = b.request_id
WHERE b.request_id NOT IN (SELECT request_id FROM _traced)
ON CONFLICT (call_id) DO UPDATE SET
    ts = excluded.ts, tenant = excluded.tenant, route = excluded.route,
    workflow = excluded.workflow, feature = excluded.feature, user_id = excluded.user_id,
    prompt_version = excluded.prompt_version, environment = excluded.environment,
    operation = excluded.operation, request_model = excluded.request_model,
    model = excluded.model, region = excluded.region,
    inference_profile = excluded.inference_profile, input_tokens = excluded.input_tokens,
    cache_read_tokens = excluded.cache_read_tokens,
    cache_write_tokens = excluded.cache_write_tokens, output_tokens = excluded.output_tokens,
    streaming = excluded.streaming, ttft_ms = excluded.ttft_ms, ttlt_ms = excluded.ttlt_ms,
    otps = excluded.otps, status = excluded.status, error_type = excluded.error_type,
    finish_reason = excluded.finish_reason, account_id = excluded.account_id,
    identity_arn = excluded.identity_arn, inference_region = excluded.inference_region,
    ingested_at = excluded.ingested_at, write_seq = nextval('llm_calls_write_seq');
