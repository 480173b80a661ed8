-- log_object_state: how far one log object or local file was read, to resume it or
-- tell that it changed.
-- params: $1 = uri
-- grain: one row, or none when the object was never read
SELECT size, mtime_ns, etag, byte_offset, line_offset, complete
FROM bedrock_log_objects WHERE uri = ?
