-- 0006_alerts: alert instances (a rule plus its group), their history and every delivery.
-- An instance is open while pending, firing or no_data; at most one open instance per
-- rule and group (analytics/alerts/ keeps it so, on the one writer thread). Resolved
-- instances stay as history; a later breach opens a new instance.
-- params: none
CREATE SEQUENCE alert_id_seq START 1;

CREATE TABLE alert_instances (
    alert_id            BIGINT PRIMARY KEY,
    rule                VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,    -- throttle_rate | error_rate
    group_key           VARCHAR NOT NULL,    -- JSON object key -> value, keys sorted
    state               VARCHAR NOT NULL,    -- pending | firing | no_data | resolved
    severity            VARCHAR NOT NULL,
    value               DOUBLE,              -- the rate at the last evaluation with data
    threshold           DOUBLE NOT NULL,
    requests            BIGINT,              -- attempts in the window at that evaluation
    message             VARCHAR,
    started_at          TIMESTAMP NOT NULL,  -- first evaluation that saw the breach
    fired_at            TIMESTAMP,           -- when it went firing; NULL if it never did
    resolved_at         TIMESTAMP,
    evaluated_at        TIMESTAMP NOT NULL,
    notified_at         TIMESTAMP,           -- last firing notification sent or attempted
    acked               BOOLEAN NOT NULL,
    silenced_until      TIMESTAMP,
    silence_comment     VARCHAR
);

CREATE TABLE alert_events (
    alert_id            BIGINT NOT NULL,
    event_at            TIMESTAMP NOT NULL,
    event               VARCHAR NOT NULL,    -- pending | firing | no_data | resolved | renotify | ack | silence
    value               DOUBLE,
    detail              VARCHAR
);

CREATE TABLE alert_deliveries (
    alert_id            BIGINT NOT NULL,
    event               VARCHAR NOT NULL,    -- firing | renotify | resolved
    channel             VARCHAR NOT NULL,
    channel_type        VARCHAR NOT NULL,    -- webhook | slack | sns
    attempt             INTEGER NOT NULL,
    attempted_at        TIMESTAMP NOT NULL,
    ok                  BOOLEAN NOT NULL,
    error               VARCHAR
);
