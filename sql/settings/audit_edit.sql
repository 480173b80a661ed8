-- audit_edit: one edit (put) or revert (delete) of a settings section, who made it and when.
-- params: $1 = changed_at, $2 = section, $3 = action, $4 = body, $5 = changed_by
-- grain: one row per edit or revert.
INSERT INTO settings_audit VALUES ($1, $2, $3, $4, $5)
