-- 0008_settings_overrides: sections of the settings edited through the read API
-- (PUT /v1/admin/settings/{section}). At start and after each edit the server's settings
-- in force are the configuration file's with each stored section's keys replacing
-- theirs (core/live_settings.py); deleting the row reverts the section to the file's.
-- Every edit and revert is also kept in settings_audit: who, when and what.
-- params: none

CREATE TABLE settings_overrides (
    section             VARCHAR PRIMARY KEY, -- alerts | capacity
    body                VARCHAR NOT NULL,    -- JSON object: the section's editable keys as put
    updated_at          TIMESTAMP NOT NULL,
    updated_by          VARCHAR NOT NULL     -- 'loopback <address>' or 'admin token <address>'
);

CREATE TABLE settings_audit (
    changed_at          TIMESTAMP NOT NULL,
    section             VARCHAR NOT NULL,
    action              VARCHAR NOT NULL,    -- put | delete
    body                VARCHAR,             -- the JSON put; NULL for a delete
    changed_by          VARCHAR NOT NULL
);
