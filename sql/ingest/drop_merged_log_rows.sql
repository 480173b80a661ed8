-- drop_merged_log_rows: once a span call of the same request id is counted, the log-only row
-- of a request in `_traced` (find_traced_requests) is replaced by the merged row, so
-- totals never count the call twice.
-- params: none
DELETE FROM llm_calls
WHERE source = 'bedrock_log'
  AND request_id IN (SELECT request_id FROM _traced);
