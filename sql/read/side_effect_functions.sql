-- side_effect_functions: built-in functions DuckDB marks as having side effects (sequences,
-- random seeds, logging, sleeps). The ad-hoc SQL check refuses them, less the few whose only
-- "effect" is to be non-deterministic (core/store/readonly.py lists those).
-- params: none
-- grain: one row per function name.
SELECT DISTINCT function_name
FROM duckdb_functions()
WHERE has_side_effects AND internal
