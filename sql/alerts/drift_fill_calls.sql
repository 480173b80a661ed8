-- drift_fill_calls: one day's window of a drift combination into drift_window_calls, read
-- through plausible_calls (token counts outside the token bound are NULL, as in the rollups).
-- params: $combo = the window length and baseline days, $d = days back (0 = the current window), $lo = window start, $hi = window end (exclusive)
-- grain: one row per call in [lo, hi).
INSERT INTO drift_window_calls
SELECT $combo, $d, * FROM plausible_calls($lo, $hi)
