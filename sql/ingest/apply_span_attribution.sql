-- apply_span_attribution: write the resolved tenant, route and workflow of `_resolved`
-- into `spans`. Unresolvable values become 'unattributed'; workflow falls back to the
-- root span's name (a trace with no workflow key is named by its entry point). Only rows whose values change are touched.
-- params: none
UPDATE spans
SET tenant = n.tenant, route = n.route, workflow = n.workflow
FROM (
    SELECT
        trace_id,
        span_id,
        coalesce(tenant, 'unattributed') AS tenant,
        coalesce(route, 'unattributed') AS route,
        coalesce(workflow, root_name, 'unattributed') AS workflow
    FROM _resolved
) AS n
WHERE spans.trace_id = n.trace_id
  AND spans.span_id = n.span_id
  AND (spans.tenant, spans.route, spans.workflow) IS DISTINCT FROM (n.tenant, n.route, n.workflow);
