-- burndown: the output burndown rate of every model rolled up, for quota tokens
-- (input + cache write + output x rate; docs/capacity.md).
-- params: none
-- grain: one row per model of rollup_keys.
-- The rate is the rollup_burndown row whose model_prefix is the longest prefix of the
-- model id in lower case with any leading geo segment (`us.`, `eu.`, `global.`, ...)
-- removed, else 1; analytics/capacity.py burndown_rate is the same rule (tests hold them equal).
CREATE OR REPLACE MACRO model_burndown() AS TABLE
SELECT m.model, coalesce(max_by(b.rate, length(b.model_prefix)), 1.0) AS rate
FROM (SELECT DISTINCT model FROM rollup_keys) m
LEFT JOIN rollup_burndown b
  ON starts_with(regexp_replace(lower(m.model), '^[a-z][a-z-]*\.([a-z0-9-]+\.)', '\1'), lower(b.model_prefix))
GROUP BY m.model;
