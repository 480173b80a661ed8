-- record_otlp_rejections: count the spans of one OTLP request refused as invalid, for the
-- ingest_rejections report.
-- params: $1 = now (TIMESTAMP), $2 = how many spans were refused, $3 = why (text, at most 1000 chars)
-- grain: one ingest_rejections row
INSERT INTO ingest_rejections VALUES (?, 'otlp', 'invalid_span', ?, ?)
