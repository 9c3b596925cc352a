-- 003: the hospital records layer — sessions, patient details and family, doctors, staff,
-- schedules, appointments with queue tokens, billing, stock, prescriptions, medical history,
-- reports and admissions. Constraints live here, not only in code: no double booking, stock
-- never negative, one payment per idempotency key, money in integer minor units.

-- Sessions: a refresh token (hashed) per login; access tokens name their session, so logout and
-- a password change end them.
CREATE TABLE sessions (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id),
  refresh_hash text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  ip           text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A patient account is linked to its patient record.
ALTER TABLE users ADD COLUMN patient_id uuid REFERENCES patients (id);

ALTER TABLE patients
  ADD COLUMN date_of_birth date,
  ADD COLUMN sex           text CHECK (sex IN ('female', 'male', 'other', 'unknown')),
  ADD COLUMN phone         text,
  ADD COLUMN email         text,
  ADD COLUMN address       jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN allergies     jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE patients ALTER COLUMN ward DROP NOT NULL;

CREATE TABLE patient_family (
  patient_id uuid NOT NULL REFERENCES patients (id),
  member_id  uuid NOT NULL REFERENCES patients (id),
  relation   text NOT NULL,
  PRIMARY KEY (patient_id, member_id),
  CHECK (patient_id <> member_id)
);

CREATE TABLE doctors (
  id           uuid PRIMARY KEY,
  user_id      uuid UNIQUE REFERENCES users (id),
  name         text NOT NULL,
  specialities jsonb NOT NULL DEFAULT '[]'::jsonb,
  languages    jsonb NOT NULL DEFAULT '[]'::jsonb,
  fee          integer NOT NULL DEFAULT 0 CHECK (fee >= 0),
  room         text,
  phone        text,
  email        text,
  slot_minutes integer NOT NULL DEFAULT 15 CHECK (slot_minutes BETWEEN 5 AND 120),
  created_at   timestamptz NOT NULL DEFAULT now(),
  archived_at  timestamptz
);

CREATE TABLE staff (
  id          uuid PRIMARY KEY,
  user_id     uuid UNIQUE REFERENCES users (id),
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('nurse', 'front-desk', 'pharmacist', 'lab', 'admin', 'kiosk')),
  department  text,
  phone       text,
  email       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);

CREATE TABLE doctor_shifts (
  doctor_id   uuid NOT NULL REFERENCES doctors (id),
  day_of_week smallint NOT NULL CHECK (day_of_week BETWEEN 0 AND 6),
  start_time  time NOT NULL,
  end_time    time NOT NULL,
  CHECK (start_time < end_time),
  PRIMARY KEY (doctor_id, day_of_week, start_time)
);

CREATE TABLE doctor_leave (
  id        uuid PRIMARY KEY,
  doctor_id uuid NOT NULL REFERENCES doctors (id),
  from_date date NOT NULL,
  to_date   date NOT NULL,
  reason    text,
  CHECK (from_date <= to_date)
);
CREATE INDEX doctor_leave_doctor ON doctor_leave (doctor_id, from_date);

CREATE TABLE appointments (
  id           uuid PRIMARY KEY,
  patient_id   uuid NOT NULL REFERENCES patients (id),
  doctor_id    uuid NOT NULL REFERENCES doctors (id),
  date         date NOT NULL,
  time         time NOT NULL,
  token_number integer NOT NULL CHECK (token_number > 0),
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'completed', 'cancelled')),
  priority     text NOT NULL DEFAULT 'normal' CHECK (priority IN ('normal', 'urgent')),
  reason       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Never double-booked, even under concurrent requests: one live appointment per doctor and slot.
CREATE UNIQUE INDEX appointments_slot ON appointments (doctor_id, date, time) WHERE status <> 'cancelled';
-- Queue tokens are unique per doctor and day (a cancelled booking keeps its number).
CREATE UNIQUE INDEX appointments_token ON appointments (doctor_id, date, token_number);
CREATE INDEX appointments_patient ON appointments (patient_id, date);

-- The token being served now, per doctor and day (the queue display).
CREATE TABLE queue_calls (
  doctor_id      uuid NOT NULL REFERENCES doctors (id),
  date           date NOT NULL,
  token_number   integer NOT NULL,
  appointment_id uuid REFERENCES appointments (id),
  called_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (doctor_id, date, token_number)
);

CREATE TABLE bills (
  id         uuid PRIMARY KEY,
  patient_id uuid NOT NULL REFERENCES patients (id),
  subtotal   bigint NOT NULL CHECK (subtotal >= 0),
  tax        bigint NOT NULL CHECK (tax >= 0),
  discount   bigint NOT NULL CHECK (discount >= 0),
  total      bigint NOT NULL CHECK (total >= 0),
  paid       bigint NOT NULL DEFAULT 0 CHECK (paid >= 0),
  currency   text NOT NULL DEFAULT 'EUR',
  status     text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'partial', 'paid', 'void')),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (paid <= total)
);
CREATE INDEX bills_patient ON bills (patient_id, created_at DESC);

CREATE TABLE bill_items (
  id          bigserial PRIMARY KEY,
  bill_id     uuid NOT NULL REFERENCES bills (id),
  kind        text NOT NULL CHECK (kind IN ('consultation', 'lab', 'medicine', 'other')),
  description text NOT NULL,
  quantity    integer NOT NULL CHECK (quantity > 0),
  unit_price  bigint NOT NULL CHECK (unit_price >= 0),
  amount      bigint NOT NULL CHECK (amount >= 0)
);

CREATE TABLE payments (
  id              uuid PRIMARY KEY,
  bill_id         uuid NOT NULL REFERENCES bills (id),
  amount          bigint NOT NULL CHECK (amount > 0),
  method          text NOT NULL CHECK (method IN ('cash', 'card', 'online')),
  idempotency_key text NOT NULL UNIQUE,
  created_by      uuid,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_bill ON payments (bill_id);

CREATE TABLE stock_items (
  id            uuid PRIMARY KEY,
  item_name     text NOT NULL,
  unit          text NOT NULL,
  batch         text,
  expiry_date   date,
  quantity      integer NOT NULL DEFAULT 0 CHECK (quantity >= 0),
  reorder_level integer NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
  unit_price    bigint NOT NULL DEFAULT 0 CHECK (unit_price >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  archived_at   timestamptz
);
CREATE INDEX stock_items_name ON stock_items (item_name);

CREATE TABLE stock_movements (
  id         bigserial PRIMARY KEY,
  item_id    uuid NOT NULL REFERENCES stock_items (id),
  kind       text NOT NULL CHECK (kind IN ('receive', 'dispense', 'adjust')),
  quantity   integer NOT NULL CHECK (quantity <> 0),
  reason     text,
  reference  text,
  actor_id   uuid,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_item ON stock_movements (item_id, at DESC);

CREATE TABLE prescriptions (
  id                 uuid PRIMARY KEY,
  patient_id         uuid NOT NULL REFERENCES patients (id),
  doctor_id          uuid NOT NULL REFERENCES doctors (id),
  appointment_id     uuid REFERENCES appointments (id),
  medicines          jsonb NOT NULL DEFAULT '[]'::jsonb,
  lab_tests          jsonb NOT NULL DEFAULT '[]'::jsonb,
  revisit_after_days integer CHECK (revisit_after_days >= 0),
  remarks            text,
  refills_allowed    integer NOT NULL DEFAULT 0 CHECK (refills_allowed >= 0),
  refills_used       integer NOT NULL DEFAULT 0 CHECK (refills_used >= 0),
  created_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (refills_used <= refills_allowed + 1)
);
CREATE INDEX prescriptions_patient ON prescriptions (patient_id, created_at DESC);

CREATE TABLE dispensings (
  id              bigserial PRIMARY KEY,
  prescription_id uuid NOT NULL REFERENCES prescriptions (id),
  item_id         uuid NOT NULL REFERENCES stock_items (id),
  quantity        integer NOT NULL CHECK (quantity > 0),
  fill_number     integer NOT NULL CHECK (fill_number > 0),
  pharmacist_id   uuid,
  at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE medical_history (
  id          uuid PRIMARY KEY,
  patient_id  uuid NOT NULL REFERENCES patients (id),
  kind        text NOT NULL CHECK (kind IN ('visit', 'diagnosis', 'note', 'chronic-condition')),
  title       text NOT NULL,
  details     text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  author_id   uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE INDEX medical_history_patient ON medical_history (patient_id, occurred_at DESC);

CREATE TABLE reports (
  id           uuid PRIMARY KEY,
  patient_id   uuid NOT NULL REFERENCES patients (id),
  file_name    text NOT NULL,
  content_type text NOT NULL,
  size         integer NOT NULL CHECK (size > 0),
  storage_key  text NOT NULL,
  uploaded_by  uuid,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_patient ON reports (patient_id, created_at DESC);

CREATE TABLE admissions (
  id            uuid PRIMARY KEY,
  patient_id    uuid NOT NULL REFERENCES patients (id),
  ward          text NOT NULL,
  bed           text NOT NULL,
  admitted_at   timestamptz NOT NULL DEFAULT now(),
  discharged_at timestamptz,
  CHECK (discharged_at IS NULL OR discharged_at >= admitted_at)
);
-- One current occupant per bed, one current admission per patient.
CREATE UNIQUE INDEX admissions_bed ON admissions (ward, bed) WHERE discharged_at IS NULL;
CREATE UNIQUE INDEX admissions_patient ON admissions (patient_id) WHERE discharged_at IS NULL;
