-- drift_fill_costs: the cost of each call of one day's drift window, priced by call_costs as
-- the rollups price them. Whole hours from the hour holding the window's start are priced
-- together (a Provisioned Throughput hour is shared among the calls it served), but nothing
-- from the evaluation time on: its hour is shared among the calls before it, as an
-- evaluation at that time saw it. Only calls inside the window are kept.
-- params: $combo = the window length and baseline days, $d = days back, $hour_lo = the hour holding the window's start, $price_hi = end of the priced hours, $lo = window start, $hi = window end (exclusive)
-- grain: one row per successful call in [lo, hi).
INSERT INTO drift_window_costs
SELECT $combo, $d, call_id, cost_usd
FROM call_costs($hour_lo, $price_hi)
WHERE ts >= $lo AND ts < $hi AND status = 'ok'
