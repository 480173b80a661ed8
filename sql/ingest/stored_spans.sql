-- stored_spans: for the spans of a commit group in `_in_keys(trace_id, span_id)`, which of
-- their traces already have spans stored (their attribution must be re-resolved over the
-- whole trace, since a batch sees only its own spans), and which of the spans themselves
-- are stored already, with who sent them (sender key and own tenant), to tell a retry
-- from another sender's span with the same ids.
-- params: none
-- grain: one row per repeated span (span_id set), else one row per stored trace (span_id NULL)
SELECT s.trace_id, k.span_id, s.sender_key, s.own_tenant
FROM spans s
LEFT JOIN _in_keys k ON k.trace_id = s.trace_id AND k.span_id = s.span_id
WHERE s.trace_id IN (SELECT trace_id FROM _in_keys)
QUALIFY k.span_id IS NOT NULL
     OR row_number() OVER (PARTITION BY s.trace_id ORDER BY k.span_id NULLS LAST) = 1;
