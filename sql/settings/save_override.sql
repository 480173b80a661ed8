-- save_override: store a section's edited keys, replacing any earlier edit of it.
-- params: $1 = section, $2 = body, $3 = updated_at, $4 = updated_by
-- grain: one row per edited section.
INSERT OR REPLACE INTO settings_overrides VALUES ($1, $2, $3, $4)
