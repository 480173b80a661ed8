-- create_schema_migrations: the table that records which migrations were applied; it
-- exists before any migration runs, so it is not one.
-- params: none
-- grain: one table.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)
