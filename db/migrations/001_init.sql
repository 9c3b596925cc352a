-- 001: accounts, patients, devices, telemetry, scores, alerts, ingest errors, audit.
-- Common to plain PostgreSQL and TimescaleDB; 001_init.timescale.sql / 001_init.plain.sql follow.

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin','doctor','nurse','front-desk','pharmacist','lab','patient','kiosk')),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  disabled_at   timestamptz
);

CREATE TABLE patients (
  id           uuid PRIMARY KEY,
  name         text NOT NULL,
  ward         text NOT NULL,
  bed          text,
  spo2_scale   smallint NOT NULL DEFAULT 1 CHECK (spo2_scale IN (1, 2)),
  alarm_limits jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  archived_at  timestamptz
);
-- One current patient per bed.
CREATE UNIQUE INDEX patients_ward_bed ON patients (ward, bed) WHERE archived_at IS NULL AND bed IS NOT NULL;

CREATE TABLE devices (
  id           text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  label        text,
  secret_hash  text NOT NULL,
  patient_id   uuid REFERENCES patients (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  status       text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown','online','offline'))
);
CREATE INDEX devices_patient ON devices (patient_id);

-- One row per reading; one column per vital (NULL = not measured in this reading).
-- No foreign keys: the hot write path stays cheap, and readings of unassigned devices are kept.
CREATE TABLE vitals (
  time       timestamptz NOT NULL,
  patient_id uuid,
  device_id  text,
  source     text NOT NULL DEFAULT 'device' CHECK (source IN ('device','manual')),
  seq        bigint,
  hr         real,
  spo2       real,
  rr         real,
  temp       real,
  sbp        real,
  dbp        real,
  o2         boolean,
  acvpu      char(1)
);
CREATE INDEX vitals_patient_time ON vitals (patient_id, time DESC);
-- A retransmitted reading (same device, time and seq — or same device and time when it carries no
-- seq) is stored once. Manual observations (no device) are never merged.
CREATE UNIQUE INDEX vitals_device_dedup ON vitals (device_id, time, (coalesce(seq, -1)));

CREATE TABLE scores (
  time       timestamptz NOT NULL,
  patient_id uuid NOT NULL,
  total      smallint NOT NULL,
  band       text NOT NULL,
  partial    boolean NOT NULL,
  parameters jsonb NOT NULL
);
CREATE INDEX scores_patient_time ON scores (patient_id, time DESC);

CREATE TABLE alerts (
  id          uuid PRIMARY KEY,
  patient_id  uuid NOT NULL REFERENCES patients (id),
  kind        text NOT NULL,
  category    text NOT NULL CHECK (category IN ('physiological','technical')),
  parameter   text,
  value       double precision,
  limit_value double precision,
  priority    text NOT NULL CHECK (priority IN ('high','medium','low')),
  state       text NOT NULL,
  message     text NOT NULL,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX alerts_patient_started ON alerts (patient_id, started_at DESC);
CREATE INDEX alerts_open ON alerts (state) WHERE ended_at IS NULL;

CREATE TABLE ingest_errors (
  id         bigserial PRIMARY KEY,
  time       timestamptz NOT NULL DEFAULT now(),
  device_id  text,
  topic      text,
  item_index integer,
  field      text,
  reason     text NOT NULL,
  refused    boolean NOT NULL,
  payload    text
);
CREATE INDEX ingest_errors_device_time ON ingest_errors (device_id, time DESC);

-- Who read or changed what. Append-only: updates and deletes are refused by a trigger.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  time        timestamptz NOT NULL DEFAULT now(),
  actor_id    uuid,
  actor_role  text,
  action      text NOT NULL,
  resource    text NOT NULL,
  resource_id text,
  patient_id  uuid,
  ip          text,
  details     jsonb
);
CREATE INDEX audit_log_patient_time ON audit_log (patient_id, time DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
