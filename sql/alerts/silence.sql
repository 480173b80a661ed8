-- silence: no notifications for an alert instance until a time, with a comment.
-- params: $1 = alert_id, $2 = silenced_until, $3 = comment
-- grain: one row if the instance exists.
UPDATE alert_instances SET silenced_until = $2, silence_comment = $3 WHERE alert_id = $1 RETURNING alert_id
