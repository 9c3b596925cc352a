-- Issue 15: finding the right doctor from symptoms, and referrals between doctors
-- (docs/decisions/0029-referrals-and-symptom-suggestions.md).

-- The symptom map behind GET /api/doctors/suggest: one row per symptom and speciality, weighted.
-- A generic resource (/api/symptom-map), kept by the hospital's admins; shipped empty — the demo
-- loads a small starter map (simulator/symptom-map.ts), which is a starting point, not clinical
-- advice. Symptoms are stored lower-case with single spaces (the API normalises them), so a match
-- is plain equality. A symptom is mapped to a speciality once (among live rows); its weight says
-- how strongly it points there.
CREATE TABLE symptom_map (
  id          uuid PRIMARY KEY,
  symptom     text NOT NULL CHECK (length(symptom) BETWEEN 1 AND 100 AND symptom = lower(symptom)),
  speciality  text NOT NULL CHECK (length(speciality) BETWEEN 1 AND 100),
  weight      integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 10),
  created_at  timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz
);
CREATE UNIQUE INDEX symptom_map_pair ON symptom_map (symptom, lower(speciality)) WHERE archived_at IS NULL;

-- A referral: a doctor sends a patient to another doctor, or to a speciality (any of its doctors
-- may take it). pending → accepted | declined (by the receiving side), accepted → booked (an
-- appointment booked with `referralId` links it; cancelling that appointment makes it accepted
-- again, to be booked anew). Transitions are checked in the UPDATE itself (referrals.store.ts).
CREATE TABLE referrals (
  id             uuid PRIMARY KEY,
  patient_id     uuid NOT NULL REFERENCES patients (id),
  from_doctor_id uuid NOT NULL REFERENCES doctors (id),
  to_doctor_id   uuid REFERENCES doctors (id),
  to_speciality  text CHECK (length(to_speciality) BETWEEN 1 AND 100),
  reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  urgency        text NOT NULL CHECK (urgency IN ('routine', 'urgent')),
  status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'declined', 'booked')),
  -- The doctor who accepted or declined (for a speciality referral: the one who took it), and why.
  responded_by   uuid REFERENCES doctors (id),
  response_note  text CHECK (length(response_note) <= 1000),
  responded_at   timestamptz,
  -- The appointment booked from it (while booked).
  appointment_id uuid UNIQUE REFERENCES appointments (id),
  booked_at      timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- To a doctor or to a speciality: exactly one.
  CONSTRAINT referrals_target CHECK ((to_doctor_id IS NULL) <> (to_speciality IS NULL)),
  CONSTRAINT referrals_not_self CHECK (to_doctor_id IS NULL OR to_doctor_id <> from_doctor_id),
  CONSTRAINT referrals_responded CHECK ((status = 'pending') = (responded_by IS NULL)),
  CONSTRAINT referrals_booked CHECK ((status = 'booked') = (appointment_id IS NOT NULL))
);
CREATE INDEX referrals_patient ON referrals (patient_id, created_at DESC);
CREATE INDEX referrals_from ON referrals (from_doctor_id, created_at DESC);
CREATE INDEX referrals_to_doctor ON referrals (to_doctor_id, status) WHERE to_doctor_id IS NOT NULL;
CREATE INDEX referrals_to_speciality ON referrals (lower(to_speciality), status) WHERE to_speciality IS NOT NULL;
CREATE INDEX referrals_responder ON referrals (responded_by) WHERE responded_by IS NOT NULL;

-- An appointment booked from a referral remembers it, cancelled or not (the referral itself points
-- only at its current booking).
ALTER TABLE appointments ADD COLUMN referral_id uuid REFERENCES referrals (id);
CREATE INDEX appointments_referral ON appointments (referral_id) WHERE referral_id IS NOT NULL;
