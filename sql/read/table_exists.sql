-- table_exists: whether a table of this name exists, so a named query over a table that
-- an optional source fills (e.g. CloudWatch metrics) answers empty instead of failing.
-- params: $t = the table name
-- grain: one row.
SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = $t;
