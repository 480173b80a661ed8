-- insert_burndown: the output burndown rates of capacity.output_burndown, one row per
-- model prefix (the two lists are parallel).
-- params: $prefixes = model prefixes (VARCHAR[]), $rates = their rates (DOUBLE[])
-- grain: model prefix
INSERT INTO rollup_burndown (model_prefix, rate)
SELECT unnest($prefixes::VARCHAR[]), unnest($rates::DOUBLE[]);
