-- merge_traced_calls: the counted span call of each request in `_traced`
-- (find_traced_requests) that also has an invocation log becomes its one 'merged' row:
-- token counts, model and account from Bedrock; client latency, streaming and status from
-- the span (TTFT from the log when the span has none).
-- params: $1 = now (TIMESTAMP)
UPDATE llm_calls
SET source = 'merged',
    input_tokens = b.input_tokens,
    cache_read_tokens = b.cache_read_tokens,
    cache_write_tokens = b.cache_write_tokens,
    output_tokens = b.output_tokens,
    model = coalesce(b.model, llm_calls.model),
    inference_profile = coalesce(llm_calls.inference_profile, b.inference_profile),
    region = coalesce(llm_calls.region, b.region),
    streaming = coalesce(llm_calls.streaming, b.streaming),
    ttft_ms = coalesce(llm_calls.ttft_ms, b.ttft_ms),
    ttlt_ms = coalesce(llm_calls.ttlt_ms, b.ttlt_ms),
    otps = otps(b.output_tokens, coalesce(llm_calls.ttft_ms, b.ttft_ms),
                coalesce(llm_calls.ttlt_ms, b.ttlt_ms)),
    finish_reason = coalesce(llm_calls.finish_reason, b.finish_reason),
    account_id = b.account_id,
    identity_arn = b.identity_arn,
    inference_region = b.inference_region,
    ingested_at = $1,
    write_seq = nextval('llm_calls_write_seq')
FROM bedrock_invocations b
JOIN _traced t ON t.request_id = b.request_id
WHERE llm_calls.call_id = t.call_id;
