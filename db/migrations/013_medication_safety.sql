-- Issue 15: medication safety (docs/decisions/0030-medication-safety-checks.md). Prescribing checks
-- the patient's recorded allergies and active prescriptions against an interaction table kept by
-- pharmacists (server/records/medication-safety.ts).

-- One row per pair of ingredients or classes. Shipped EMPTY: which pairs interact, and how badly,
-- is the hospital pharmacy's list (imported as CSV or entered one by one), never invented here.
-- `a` and `b` are stored in their matching form (lower-case letters and digits, single spaces:
-- "ACE-inhibitor" → "ace inhibitor"; normaliseTerm), so the server can pre-select candidate rows
-- with plain string search and match exactly as the pure check does. A pair is unordered: (a, b)
-- and (b, a) are one pair, unique among live rows (drug_interactions_pair).
CREATE TABLE drug_interactions (
  id          uuid PRIMARY KEY,
  a           text NOT NULL CHECK (length(a) BETWEEN 1 AND 100 AND a = lower(a)),
  b           text NOT NULL CHECK (length(b) BETWEEN 1 AND 100 AND b = lower(b)),
  severity    text NOT NULL CHECK (severity IN ('contraindicated', 'major', 'moderate')),
  note        text CHECK (length(note) <= 1000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz,
  CONSTRAINT drug_interactions_distinct CHECK (a <> b)
);
CREATE UNIQUE INDEX drug_interactions_pair ON drug_interactions (least(a, b), greatest(a, b)) WHERE archived_at IS NULL;

-- A prescription written over a refusal (an allergy or a contraindicated interaction): the
-- prescriber's reason and the findings it overrode, shown to whoever reads or dispenses it. Null
-- when nothing was overridden. The override is audited too ('safety-override').
ALTER TABLE prescriptions ADD COLUMN safety_override jsonb;
