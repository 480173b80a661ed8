-- record_migration: note a migration as applied, in the transaction that applied it.
-- params: $1 = version (INTEGER), $2 = file name, $3 = applied_at (TIMESTAMP)
-- grain: one row of schema_migrations.
INSERT INTO schema_migrations VALUES ($1, $2, $3)
