-- ack: acknowledge an open alert instance (its re-notifications stop; resolution is still sent).
-- params: $1 = alert_id
-- grain: one row if the instance exists and is open.
UPDATE alert_instances SET acked = true WHERE alert_id = $1 AND state <> 'resolved' RETURNING alert_id
