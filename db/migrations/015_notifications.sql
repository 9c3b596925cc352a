-- Issue 15: notifications through a durable outbox (docs/architecture.md "Notifications").
-- Every notification is a row first — written in the transaction of the change it tells about
-- (a booking, a cancellation) so that it exists iff the change committed — and is then sent by a
-- sender loop on any node. A sender claims a row by moving it to 'sending' with a lease
-- (FOR UPDATE SKIP LOCKED: two nodes never claim the same row); a row whose lease ran out (its
-- sender crashed) is claimed again. Delivery is therefore at-least-once: a crash between the SMTP
-- server's acceptance and the row's update to 'sent' sends that one message again.
CREATE TABLE notifications (
  id              uuid PRIMARY KEY,
  kind            text NOT NULL,
  channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
  recipient       text NOT NULL,    -- an e-mail address, or a phone number for 'sms'
  subject         text NOT NULL,
  body            text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until     timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  patient_id      uuid REFERENCES patients (id),
  appointment_id  uuid REFERENCES appointments (id),
  alert_id        uuid,
  -- Enqueued at most once per key: a reminder per appointment slot, an escalation per level and address.
  dedupe_key      text,
  CONSTRAINT notifications_dedupe UNIQUE (dedupe_key)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notifications_created ON notifications (created_at DESC);

-- Every delivery attempt, successful or not.
CREATE TABLE notification_deliveries (
  id              bigserial PRIMARY KEY,
  notification_id uuid NOT NULL REFERENCES notifications (id),
  attempt         integer NOT NULL,
  at              timestamptz NOT NULL DEFAULT now(),
  ok              boolean NOT NULL,
  error           text
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries (notification_id, id);

-- A patient's opt-outs, per kind of notification (no row: the default, on).
CREATE TABLE notification_preferences (
  patient_id uuid NOT NULL REFERENCES patients (id),
  kind       text NOT NULL,
  enabled    boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, kind)
);
