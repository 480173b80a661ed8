-- macros_fingerprint: the sha256 of the macro and view files the writer last created in
-- this database (the body of outcrop_macros_sha256()), or none when no writer of this
-- layout has opened it.
-- params: none
-- grain: one row, or none.
SELECT trim(macro_definition, '''') AS digest FROM duckdb_functions()
WHERE function_name = 'outcrop_macros_sha256' AND function_type = 'macro' AND NOT internal
