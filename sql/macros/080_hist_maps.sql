-- hist_maps: histogram rows of rollup_bins_1m in long form (minute_bins) and as
-- MAP(bin -> count) per bucket and key (hist_maps), for the documented rollup views.
-- params: none
-- grain: one row per bucket x key (x metric x bin for minute_bins).
-- Histogram rows of rollup_bins_1m in [lo, hi) in long form (bucket, key, metric, bin, n),
-- with buckets floored to `step` ('minute', 'hour' or 'day').
CREATE OR REPLACE MACRO minute_bins(lo, hi, step) AS TABLE
WITH m AS (SELECT * FROM rollup_bins_1m WHERE bucket >= lo AND bucket < hi)
SELECT date_trunc(step, bucket) AS bucket, key_id, 0::UTINYINT AS metric, ttft AS bin, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 1::UTINYINT, ttlt, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 2::UTINYINT, otps, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 3::UTINYINT, prompt_tokens, n FROM m
UNION ALL
SELECT date_trunc(step, bucket), key_id, 4::UTINYINT, output_tokens, n FROM m;

-- The rollups of docs/schema.md, keyed by bucket start and the five key
-- strings, histograms as MAP(bin -> count). For reading by hand (`outcrop sql`); the
-- named queries read the narrow tables above, which is much faster.
CREATE OR REPLACE MACRO hist_maps(lo, hi, step) AS TABLE
SELECT bucket, key_id,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 0)) AS ttft_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 1)) AS ttlt_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 2)) AS otps_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 3)) AS prompt_tokens_hist,
       map_from_entries(list((bin::INTEGER, n::UBIGINT) ORDER BY bin) FILTER (WHERE metric = 4)) AS output_tokens_hist
FROM (SELECT bucket, key_id, metric, bin, sum(n) AS n
      FROM (SELECT * FROM minute_bins(lo, hi, step) WHERE step <> 'day'
            UNION ALL
            SELECT * FROM rollup_bins_1d WHERE step = 'day')
      WHERE bin IS NOT NULL GROUP BY ALL)
GROUP BY ALL;
