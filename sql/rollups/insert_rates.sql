-- insert_rates: the on-demand rates of every price class over each interval, the rule of
-- call_costs (sql/macros/070_call_costs.sql) over whole intervals: the class's exact price
-- key where price_book covers it, else its loose key; the batch discount folded into each
-- rate. Cut at every boundary of either key's intervals, so one rate holds over each
-- interval; price boundaries fall on whole UTC days (core/settings.py PriceOverride), so
-- every rollup bucket lies inside one interval and reads price it by its start.
-- Runs after clear_rates.sql: in the price sync when prices changed (analytics/pricing.py),
-- and in a rollup run after upsert_price_classes.sql when it added a class.
-- params: none
-- grain: price class x price interval
INSERT INTO rollup_rates
WITH e AS (
    SELECT c.pclass, b.lo, b.hi, b.input_rate, b.cache_read_rate, b.cache_write_rate, b.output_rate,
           CASE WHEN c.batch THEN 1 - b.batch_discount ELSE 1 END AS factor, b.source
    FROM rollup_price_classes c JOIN price_book b ON b.key = c.pk AND b.call_scope = c.scope
), l AS (
    SELECT c.pclass, b.lo, b.hi, b.input_rate, b.cache_read_rate, b.cache_write_rate, b.output_rate,
           CASE WHEN c.batch THEN 1 - b.batch_discount ELSE 1 END AS factor, b.source
    FROM rollup_price_classes c JOIN price_book b ON b.key = c.plk AND b.call_scope = c.scope
), points AS (
    SELECT pclass, lo AS t FROM e UNION SELECT pclass, hi FROM e
    UNION SELECT pclass, lo FROM l UNION SELECT pclass, hi FROM l
), pieces AS (
    SELECT pclass, t AS lo, lead(t) OVER (PARTITION BY pclass ORDER BY t) AS hi FROM points
)
SELECT p.pclass, p.lo, p.hi,
       coalesce(e.input_rate, l.input_rate) * coalesce(e.factor, l.factor),
       coalesce(e.cache_read_rate, l.cache_read_rate) * coalesce(e.factor, l.factor),
       coalesce(e.cache_write_rate, l.cache_write_rate) * coalesce(e.factor, l.factor),
       coalesce(e.output_rate, l.output_rate) * coalesce(e.factor, l.factor),
       coalesce(e.source, l.source)
FROM pieces p
LEFT JOIN e ON e.pclass = p.pclass AND e.lo <= p.lo AND p.lo < e.hi
LEFT JOIN l ON e.pclass IS NULL AND l.pclass = p.pclass AND l.lo <= p.lo AND p.lo < l.hi
WHERE p.hi IS NOT NULL AND coalesce(e.pclass, l.pclass) IS NOT NULL;
