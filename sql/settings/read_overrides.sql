-- read_overrides: the settings sections edited through the API, as stored.
-- params: none
-- grain: one row per edited section.
SELECT section, body, updated_at, updated_by FROM settings_overrides ORDER BY section
