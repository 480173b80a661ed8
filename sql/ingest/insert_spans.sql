-- insert_spans: store the admitted spans registered as `_in_rows`; a span stored before
-- (an exporter's retry) is left as it is.
-- params: none
-- grain: one spans row per new span
INSERT INTO spans BY NAME SELECT * FROM _in_rows ON CONFLICT DO NOTHING
