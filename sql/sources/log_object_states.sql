-- log_object_states: log_object_state for a page of S3 objects in one read.
-- params: $1 = the uris (VARCHAR[])
-- grain: one row per uri already read
SELECT uri, size, mtime_ns, etag, byte_offset, line_offset, complete
FROM bedrock_log_objects WHERE uri IN (SELECT unnest(?))
