-- 002: the alarm lifecycle — acknowledgement, silence, latching, escalation — with an
-- append-only trail of every transition and of every notification attempt.

ALTER TABLE alerts
  ADD COLUMN key              text,
  ADD COLUMN rule             text,
  ADD COLUMN latching         boolean NOT NULL DEFAULT false,
  ADD COLUMN condition_active boolean NOT NULL DEFAULT true,
  ADD COLUMN silenced_until   timestamptz,
  ADD COLUMN acknowledged_by  uuid,
  ADD COLUMN acknowledged_at  timestamptz,
  ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
  ADD COLUMN device_id        text;
UPDATE alerts SET key = CASE WHEN kind = 'news2' THEN 'news2:total' ELSE kind || ':' || coalesce(parameter, '') END WHERE key IS NULL;
UPDATE alerts SET rule = message WHERE rule IS NULL;
ALTER TABLE alerts ALTER COLUMN key SET NOT NULL, ALTER COLUMN rule SET NOT NULL;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check CHECK (state IN ('active', 'acknowledged', 'silenced', 'resolved'));
CREATE INDEX alerts_started ON alerts (started_at DESC);

CREATE TABLE alert_transitions (
  id         bigserial PRIMARY KEY,
  alert_id   uuid NOT NULL,
  patient_id uuid NOT NULL,
  from_state text,
  to_state   text NOT NULL,
  at         timestamptz NOT NULL,
  actor_id   uuid,
  actor_role text,
  comment    text
);
CREATE INDEX alert_transitions_alert ON alert_transitions (alert_id, id);
CREATE TRIGGER alert_transitions_no_update BEFORE UPDATE OR DELETE ON alert_transitions
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER alert_transitions_no_truncate BEFORE TRUNCATE ON alert_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE notification_attempts (
  id        bigserial PRIMARY KEY,
  alert_id  uuid NOT NULL,
  level     integer NOT NULL,
  role      text NOT NULL,
  channel   text NOT NULL,
  target    text,
  attempt   integer NOT NULL,
  at        timestamptz NOT NULL,
  ok        boolean NOT NULL,
  status    integer,
  error     text
);
CREATE INDEX notification_attempts_alert ON notification_attempts (alert_id, id);
