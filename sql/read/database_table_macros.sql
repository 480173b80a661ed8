-- database_table_macros: table macros the migrations defined (call_costs, minute_bins, ...):
-- SQL of the project's own, so ad-hoc reads may call them like the built-in generators.
-- params: none
-- grain: one row per macro name.
SELECT DISTINCT function_name
FROM duckdb_functions()
WHERE function_type = 'table_macro' AND NOT internal
