-- record_line_rejections: the malformed lines of one batch, counted, for the
-- ingest_rejections report.
-- params: $1 = rejected_at (TIMESTAMP), $2 = source, $3 = how many lines, $4 = where (locations, at most 1000 chars)
-- grain: one ingest_rejections row
INSERT INTO ingest_rejections (rejected_at, source, reason, count, detail)
VALUES (?, ?, 'malformed_line', ?, ?)
