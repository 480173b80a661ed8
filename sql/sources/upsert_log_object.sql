-- upsert_log_object: how far one log object or local file has been read, written in the
-- transaction of the rows it covers (0002_bedrock_sources); record and error counts add up
-- over the batches of the object.
-- params: $1 = uri, $2 = size, $3 = mtime_ns, $4 = etag, $5 = byte_offset, $6 = line_offset, $7 = records, $8 = errors, $9 = complete, $10 = updated_at (TIMESTAMP)
-- grain: one bedrock_log_objects row
INSERT INTO bedrock_log_objects AS o
    (uri, size, mtime_ns, etag, byte_offset, line_offset, records, errors, complete, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uri) DO UPDATE SET
    size = excluded.size, mtime_ns = excluded.mtime_ns, etag = excluded.etag,
    byte_offset = excluded.byte_offset, line_offset = excluded.line_offset,
    records = o.records + excluded.records, errors = o.errors + excluded.errors,
    complete = excluded.complete, updated_at = excluded.updated_at
