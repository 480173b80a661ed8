-- clear_dirty: empty the queue of dirty hours and days once every table is rewritten, in
-- the same transaction.
-- params: none
DELETE FROM rollup_dirty
