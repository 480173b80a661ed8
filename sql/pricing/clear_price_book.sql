-- clear_price_book: empty price_book before rollups/price_book.sql rebuilds it from the
-- current prices, in the same transaction.
-- params: none
DELETE FROM price_book
