-- rollups: the rollups of docs/schema.md at three grains, keyed by bucket
-- start and the five key strings, histograms as MAP(bin -> count). For reading by hand
-- (`outcrop sql`); the named queries read the narrow tables, which is much faster. The
-- count tables' rows of one bucket and key (one per price class) are summed, priced when
-- read (priced_counts).
-- params: none
-- grain: one row per bucket x key combination.
CREATE OR REPLACE VIEW rollup_1m AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id), h.* EXCLUDE (bucket, key_id)
FROM (SELECT * FROM view_counts(rollup_counts_1m)) c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'minute') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;
CREATE OR REPLACE VIEW rollup_1h AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id), h.* EXCLUDE (bucket, key_id)
FROM (SELECT * FROM view_counts(rollup_counts_1h)) c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'hour') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;
CREATE OR REPLACE VIEW rollup_1d AS
SELECT c.bucket, k.tenant, k.route, k.workflow, k.model, k.region,
       c.* EXCLUDE (bucket, key_id), h.* EXCLUDE (bucket, key_id)
FROM (SELECT * FROM view_counts(rollup_counts_1d)) c JOIN rollup_keys k ON k.key_id = c.key_id
LEFT JOIN hist_maps(TIMESTAMP '-infinity', TIMESTAMP 'infinity', 'day') h
       ON h.bucket = c.bucket AND h.key_id = c.key_id;
