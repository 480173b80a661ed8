-- traces_with_spans: which of the traces listed in `_in_traces(trace_id)` already have
-- spans stored. Their attribution must be re-resolved over the whole trace, since a
-- batch sees only its own spans. Grain: one row per trace id.
SELECT DISTINCT trace_id
FROM spans
WHERE trace_id IN (SELECT trace_id FROM _in_traces);
