-- clear_rates: empty rollup_rates before insert_rates.sql rebuilds it from the current
-- price_book and price classes, in the same transaction.
-- params: none
DELETE FROM rollup_rates
