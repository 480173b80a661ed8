-- close_orphans: resolve, quietly, the open instances of rules and budgets that are no
-- longer configured (removed from outcrop.toml or through the settings API): nothing will
-- evaluate them again, so left open they would stay firing for ever. Only instances last
-- evaluated before $at are closed, so an evaluation as of an earlier time changes nothing.
-- params: $names = the rule and budget names configured now, $at = evaluation time
-- grain: one row per closed instance (its alert_id and rule).
UPDATE alert_instances
SET state = 'resolved', resolved_at = $at, evaluated_at = $at,
    message = 'rule ' || rule || ' is no longer configured'
WHERE state <> 'resolved' AND NOT list_contains($names, rule) AND evaluated_at <= $at
RETURNING alert_id, rule, message
