-- Lab orders and results (issue 15): the test catalogue, orders and their items. The rules a
-- catalogue entry's ranges obey are named constraints, so a refusal is recognised by its name
-- (server/records/specs.ts, labTestSpec.constraints) and answered with the rule, not a 500.

-- The catalogue: a generic resource (/api/lab-tests), managed by admins and the lab.
CREATE TABLE lab_tests (
  id             uuid PRIMARY KEY,
  code           text NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
  name           text NOT NULL,
  unit           text NOT NULL DEFAULT '',
  specimen       text NOT NULL,
  reference_low  numeric,
  reference_high numeric,
  critical_low   numeric,
  critical_high  numeric,
  created_at     timestamptz NOT NULL DEFAULT now(),
  archived_at    timestamptz,
  CONSTRAINT lab_tests_reference_range CHECK (reference_low IS NULL OR reference_high IS NULL OR reference_low <= reference_high),
  CONSTRAINT lab_tests_critical_range CHECK (critical_low IS NULL OR critical_high IS NULL OR critical_low < critical_high),
  CONSTRAINT lab_tests_critical_low_outside CHECK (critical_low IS NULL OR critical_low < coalesce(reference_low, reference_high, critical_low + 1)),
  CONSTRAINT lab_tests_critical_high_outside CHECK (critical_high IS NULL OR critical_high > coalesce(reference_high, reference_low, critical_high - 1))
);
-- One live entry per code: an order names tests by id, people by code.
CREATE UNIQUE INDEX lab_tests_code ON lab_tests (code) WHERE archived_at IS NULL;

-- An order: ordered → collected → resulted → released (server/records/lab.ts), one timestamp and
-- one actor per step. `ordered_by` is the ordering doctor's account: it (or the lab) releases.
CREATE TABLE lab_orders (
  id           uuid PRIMARY KEY,
  patient_id   uuid NOT NULL REFERENCES patients (id),
  status       text NOT NULL DEFAULT 'ordered' CHECK (status IN ('ordered', 'collected', 'resulted', 'released')),
  priority     text NOT NULL CHECK (priority IN ('routine', 'urgent')),
  note         text,
  ordered_by   uuid NOT NULL REFERENCES users (id),
  ordered_at   timestamptz NOT NULL DEFAULT now(),
  collected_by uuid REFERENCES users (id),
  collected_at timestamptz,
  resulted_by  uuid REFERENCES users (id),
  resulted_at  timestamptz,
  released_by  uuid REFERENCES users (id),
  released_at  timestamptz,
  -- Each step's time is there exactly when the order has reached it.
  CONSTRAINT lab_orders_steps CHECK (
    (collected_at IS NOT NULL) = (status IN ('collected', 'resulted', 'released'))
    AND (resulted_at IS NOT NULL) = (status IN ('resulted', 'released'))
    AND (released_at IS NOT NULL) = (status = 'released'))
);
CREATE INDEX lab_orders_patient ON lab_orders (patient_id, ordered_at DESC);
CREATE INDEX lab_orders_status ON lab_orders (status, ordered_at DESC);

-- One row per test of an order. The catalogue entry is copied as it was when ordered (name, code,
-- unit, specimen) and its ranges as they were when resulted: a result keeps the ranges it was
-- flagged by, whatever the catalogue says later.
CREATE TABLE lab_order_items (
  order_id       uuid NOT NULL REFERENCES lab_orders (id),
  test_id        uuid NOT NULL REFERENCES lab_tests (id),
  position       integer NOT NULL,
  code           text NOT NULL,
  name           text NOT NULL,
  unit           text NOT NULL,
  specimen       text NOT NULL,
  reference_low  numeric,
  reference_high numeric,
  critical_low   numeric,
  critical_high  numeric,
  value          numeric,
  flag           text CHECK (flag IN ('N', 'L', 'H', 'LL', 'HH')),
  comment        text,
  PRIMARY KEY (order_id, test_id)
);
