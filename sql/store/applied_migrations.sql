-- applied_migrations: the numbers of the migrations already applied to this database.
-- params: none
-- grain: one row per applied migration.
SELECT version FROM schema_migrations
