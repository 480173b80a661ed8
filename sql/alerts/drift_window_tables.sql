-- drift_window_tables: the calls of the drift windows of one evaluation, so that rules with
-- the same window length and baseline days read them once and the calls are scanned by day
-- window (each a ts range DuckDB prunes by zone map) rather than over the whole baseline.
-- Temporary: they live on the writer's connection for the evaluation.
-- params: none
-- grain: one row per call and window (`combo` = the window length and baseline days, `d` = days back).
CREATE TEMP TABLE IF NOT EXISTS drift_window_calls AS
SELECT ''::VARCHAR AS combo, 0::INTEGER AS d, * FROM plausible_calls(TIMESTAMP '1970-01-01', TIMESTAMP '1970-01-01')
WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS drift_window_costs (
    combo VARCHAR NOT NULL, d INTEGER NOT NULL, call_id VARCHAR NOT NULL, cost_usd DOUBLE
);
DELETE FROM drift_window_calls;
DELETE FROM drift_window_costs;
