-- record_line_error: one malformed line of an invocation-log object, once (a re-read of
-- the same object and line keeps the first record).
-- params: $1 = location (uri), $2 = line number, $3 = source, $4 = reason, $5 = excerpt, $6 = seen_at (TIMESTAMP)
-- grain: one ingest_errors row
INSERT INTO ingest_errors (location, line, source, reason, excerpt, seen_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (location, line) DO NOTHING
