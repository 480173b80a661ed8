-- prices: the effective-dated price table as the rollups price with it: each model's rates
-- per million tokens by region scope and validity period, and where each came from
-- (`genai-prices` seed or `override` from pricing.overrides, which wins). Synced from the
-- settings at each rollup run, so it is empty until the first one.
-- params: where
-- keys: model
-- columns: provider, model, region_scope, source, valid_from, valid_to, input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok, cache_write_1h_per_mtok, batch_discount, currency
-- grain: one row per model x region scope x validity period x source.
SELECT provider, model, region_scope, source, valid_from, valid_to, input_per_mtok, output_per_mtok,
       cache_read_per_mtok, cache_write_per_mtok, cache_write_1h_per_mtok, batch_discount, currency
FROM prices
WHERE key_ok($f_model, model)
ORDER BY model, region_scope, source, valid_from
