-- watermark_advance: move a watermark forward only: the larger of the stored value and
-- $value, compared as text (so values must sort as they progress, e.g. 'YYYY/MM/DD/HH').
-- params: $name = the watermark's name, $value = the candidate value (text), $now = when (TIMESTAMP)
-- grain: one row of watermarks written.
INSERT INTO watermarks (name, value, updated_at) VALUES ($name, $value, $now)
ON CONFLICT (name) DO UPDATE SET value = greatest(watermarks.value, excluded.value),
    updated_at = excluded.updated_at
