-- stored_span_senders: the spans of `_in_keys(trace_id, span_id)` that are already
-- stored, with who sent them (sender key and own tenant), to tell a retry from another
-- sender's span with the same ids. Row ids come from a scan of the trace_id column alone,
-- as in collect_trace_spans. Grain: one row per stored span.
SELECT s.trace_id, s.span_id, s.sender_key, s.own_tenant
FROM spans s
JOIN _in_keys k ON k.trace_id = s.trace_id AND k.span_id = s.span_id
WHERE s.rowid IN (SELECT rowid FROM spans WHERE trace_id IN (SELECT trace_id FROM _in_keys));
