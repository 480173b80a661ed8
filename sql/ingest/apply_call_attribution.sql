-- apply_call_attribution: write the resolved attribution of `_resolved` into the
-- `llm_calls` rows of those spans. A span's own or inherited value wins, except the
-- tenant of a call also seen in an invocation log: the log is AWS's record of whose call
-- it is, so a tenant it states wins (a span stating another one is not merged, see
-- decide_claims). Otherwise the log's requestMetadata fills what the trace lacks; the root
-- span's name is the last resort for workflow. Changed rows get a
-- new write_seq, so rollups re-process their windows.
-- params: $1 = now (TIMESTAMP)
UPDATE llm_calls
SET tenant = n.tenant, route = n.route, workflow = n.workflow, feature = n.feature,
    user_id = n.user_id, prompt_version = n.prompt_version, environment = n.environment,
    ingested_at = $1, write_seq = nextval('llm_calls_write_seq')
FROM (
    SELECT
        l.call_id,
        coalesce(b.tenant, r.tenant, 'unattributed') AS tenant,
        coalesce(r.route, b.route, 'unattributed') AS route,
        coalesce(r.workflow, b.workflow, r.root_name, 'unattributed') AS workflow,
        coalesce(r.feature, b.feature) AS feature,
        coalesce(r.user_id, b.user_id) AS user_id,
        coalesce(r.prompt_version, b.prompt_version) AS prompt_version,
        coalesce(r.environment, b.environment) AS environment
    FROM llm_calls l
    JOIN _resolved r ON r.trace_id = l.trace_id AND r.span_id = l.span_id
    LEFT JOIN bedrock_invocations b ON b.request_id = l.request_id
) AS n
WHERE llm_calls.call_id = n.call_id
  AND (llm_calls.tenant, llm_calls.route, llm_calls.workflow, llm_calls.feature,
       llm_calls.user_id, llm_calls.prompt_version, llm_calls.environment)
      IS DISTINCT FROM
      (n.tenant, n.route, n.workflow, n.feature, n.user_id, n.prompt_version, n.environment);
