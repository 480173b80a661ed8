-- clear_burndown: remove the output burndown rates, before insert_burndown.sql writes the
-- ones in settings (same transaction as the rollup run that applies them).
-- params: none
DELETE FROM rollup_burndown;
