-- watermark_get: the stored value of one watermark (a job's or a source's progress).
-- params: $name = the watermark's name (e.g. 'rollup.write_seq', 'bedrock_s3:<prefix>')
-- grain: one row, or none when the watermark was never set.
SELECT value FROM watermarks WHERE name = $name
