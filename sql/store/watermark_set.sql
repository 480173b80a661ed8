-- watermark_set: store a watermark's value, whatever it was before.
-- params: $name = the watermark's name, $value = its new value (text), $now = when (TIMESTAMP)
-- grain: one row of watermarks written.
INSERT INTO watermarks (name, value, updated_at) VALUES ($name, $value, $now)
ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
