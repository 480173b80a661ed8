-- price_book: for each price key and call scope, the single price in force over each
-- interval between consecutive valid_from/valid_to points of the candidate prices.
-- Preference: a config override over the seed, then a price stated for the call's own
-- scope over one stated for 'any', then the most recent valid_from. A price stated for
-- 'any' applied to a geo or global call is multiplied by $geo_multiplier or
-- $global_multiplier. Rates are converted from per-million to per-token. Missing cache
-- rates fall back to the input rate (a model without cache pricing bills them as input).
-- params: $geo_multiplier = price factor of a geo call, $global_multiplier = of a global call (DOUBLE)
-- grain: price interval
INSERT INTO price_book
WITH scopes AS (
    SELECT unnest(['in_region', 'geo', 'global']) AS call_scope
), cand AS (
    SELECT price_key(p.model) AS key, s.call_scope, p.*,
           CASE WHEN p.source = 'override' THEN 0 ELSE 1 END AS source_rank,
           CASE WHEN p.region_scope = s.call_scope THEN 0 ELSE 1 END AS scope_rank,
           CASE WHEN p.region_scope <> 'any' THEN 1.0
                WHEN s.call_scope = 'geo' THEN $geo_multiplier
                WHEN s.call_scope = 'global' THEN $global_multiplier
                ELSE 1.0 END AS multiplier
    FROM prices p JOIN scopes s ON p.region_scope IN (s.call_scope, 'any')
), points AS (
    SELECT key, call_scope, valid_from AS t FROM cand
    UNION
    SELECT key, call_scope, valid_to FROM cand WHERE valid_to IS NOT NULL
), intervals AS (
    SELECT key, call_scope, t AS lo,
           coalesce(lead(t) OVER (PARTITION BY key, call_scope ORDER BY t),
                    TIMESTAMP '9999-12-31') AS hi
    FROM points
), picked AS (
    SELECT i.lo, i.hi, c.*,
           row_number() OVER (PARTITION BY i.key, i.call_scope, i.lo
                              ORDER BY c.source_rank, c.scope_rank, c.valid_from DESC,
                                       c.input_per_mtok DESC) AS rn
    FROM intervals i JOIN cand c
      ON c.key = i.key AND c.call_scope = i.call_scope
     AND c.valid_from <= i.lo AND (c.valid_to IS NULL OR c.valid_to > i.lo)
)
SELECT key, call_scope, lo, hi,
       input_per_mtok * multiplier / 1e6,
       output_per_mtok * multiplier / 1e6,
       coalesce(cache_read_per_mtok, input_per_mtok) * multiplier / 1e6,
       coalesce(cache_write_per_mtok, input_per_mtok) * multiplier / 1e6,
       batch_discount, source
FROM picked WHERE rn = 1;
