-- open_instances: the open (pending, firing or no_data) instances of one rule, one per
-- group, with the time each was last evaluated (an evaluation as of an earlier time leaves
-- such an instance alone: it cannot know what happened after it).
-- params: $1 = rule name
-- grain: one row per open alert instance.
SELECT alert_id, group_key, state, started_at, fired_at, notified_at, acked, silenced_until, evaluated_at
FROM alert_instances
WHERE rule = $1 AND state <> 'resolved'
