-- insert_span_calls: store the LLM calls of the admitted spans registered as `_in_rows`;
-- a call stored before (an exporter's retry) is left as it is.
-- params: none
-- grain: one llm_calls row per new span call
INSERT INTO llm_calls BY NAME SELECT * FROM _in_rows ON CONFLICT DO NOTHING
