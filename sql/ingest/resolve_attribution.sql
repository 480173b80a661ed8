-- resolve_attribution: for every span in `_trace_spans` (collect_trace_spans), the
-- attribution it inherits: its own value, else the nearest ancestor's that has one.
-- Recomputed over whole traces each time a span arrives, so the
-- result does not depend on arrival order (a child may come before its root).
-- Inheritance stays within one sender and one tenant: the walk up stops below the first
-- ancestor sent with another ingest key, or stating a tenant other than the one the
-- span has (its own, else the nearest one inherited so far). collector/span_batch.py
-- `_resolve_in_batch` is the same walk in Python.
-- The ancestor walk is bounded at 128 levels, which also stops hostile parent cycles.
-- params: none
-- grain: one row per span
CREATE OR REPLACE TEMP TABLE _resolved AS
WITH RECURSIVE chain(trace_id, span_id, anc_id, next_id, depth, sender_key, tenant) AS (
    SELECT s.trace_id, s.span_id, s.span_id, s.parent_span_id, 0, s.sender_key, s.own_tenant
    FROM _trace_spans s
    UNION ALL
    SELECT c.trace_id, c.span_id, a.span_id, a.parent_span_id, c.depth + 1, c.sender_key,
           coalesce(c.tenant, a.own_tenant)
    FROM chain c
    JOIN _trace_spans a ON a.trace_id = c.trace_id AND a.span_id = c.next_id
    WHERE c.depth < 128
      AND a.sender_key IS NOT DISTINCT FROM c.sender_key
      AND (c.tenant IS NULL OR a.own_tenant IS NULL OR a.own_tenant = c.tenant)
)
SELECT
    c.trace_id,
    c.span_id,
    arg_min(a.own_tenant, c.depth) FILTER (WHERE a.own_tenant IS NOT NULL) AS tenant,
    arg_min(a.own_route, c.depth) FILTER (WHERE a.own_route IS NOT NULL) AS route,
    arg_min(a.own_workflow, c.depth) FILTER (WHERE a.own_workflow IS NOT NULL) AS workflow,
    arg_min(a.own_feature, c.depth) FILTER (WHERE a.own_feature IS NOT NULL) AS feature,
    arg_min(a.own_user_id, c.depth) FILTER (WHERE a.own_user_id IS NOT NULL) AS user_id,
    arg_min(a.own_prompt_version, c.depth) FILTER (WHERE a.own_prompt_version IS NOT NULL) AS prompt_version,
    arg_min(a.own_environment, c.depth) FILTER (WHERE a.own_environment IS NOT NULL) AS environment,
    -- the topmost span reached on the way up: the root once it has arrived, unless the
    -- walk stopped below another sender's or tenant's ancestor
    arg_max(a.name, c.depth) AS root_name
FROM chain c
JOIN _trace_spans a ON a.trace_id = c.trace_id AND a.span_id = c.anc_id
GROUP BY c.trace_id, c.span_id;
