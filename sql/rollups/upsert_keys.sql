-- upsert_keys: add to rollup_keys every key combination of the calls in [$lo, $hi) that it
-- does not hold yet. The id is a hash of the strings (rollup_key_id), so calls never need
-- a lookup to find it; grouping by the id finds the new combinations in one cheap pass.
-- params: $lo = start of the dirty hours, $hi = end of the dirty hours (TIMESTAMP)
-- grain: key combination
INSERT OR IGNORE INTO rollup_keys
SELECT key_id, any_value(tenant), any_value(route), any_value(workflow),
       coalesce(any_value(model), 'unknown'), coalesce(any_value(region), 'unknown')
FROM (SELECT rollup_key_id(tenant, route, workflow, model, region) AS key_id,
             tenant, route, workflow, model, region
      FROM llm_calls WHERE ts >= $lo AND ts < $hi)
GROUP BY key_id;
