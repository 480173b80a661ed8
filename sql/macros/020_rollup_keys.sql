-- rollup_keys: the 64-bit ids rollups group on, a hash of the key strings, so a rollup
-- needs no lookup to find an id (bench/README.md). Two of n keys collide with probability
-- about n^2 / 2^65: ~1e-11 for 10,000 keys.
-- params: none
-- grain: scalar macros, one id per key combination.
CREATE OR REPLACE MACRO rollup_key_id(tenant, route, workflow, model, region) AS
    hash(tenant, route, workflow, coalesce(model, 'unknown'), coalesce(region, 'unknown'));
-- The id of a tenant x model x region (rollup_tmr_bins_1d).
CREATE OR REPLACE MACRO rollup_tmr_id(tenant, model, region) AS hash(tenant, model, region);
