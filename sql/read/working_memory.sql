-- working_memory: bytes the database holds for running work (hash tables, sorts,
-- aggregate states, query results), summed over every connection of the instance.
-- Cached blocks of stored tables (BASE_TABLE, METADATA) and the external file cache are
-- left out: DuckDB evicts them under pressure, so they say nothing about a query's needs.
-- params: none
-- grain: one row.
SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT AS bytes
FROM duckdb_memory()
WHERE tag NOT IN ('BASE_TABLE', 'METADATA', 'EXTERNAL_FILE_CACHE')
