-- delete_override: forget a section's edit, so the configuration file's keys apply again.
-- params: $1 = section
DELETE FROM settings_overrides WHERE section = $1
