-- Issue 11, finding 5: least privilege for wall displays. A kiosk account is bound to the ward(s)
-- it displays; it sees the live view of those wards only (server/records/scope.ts, wardScope).
-- One row per account and ward (not an array column): a ward is checked like a patient's ward
-- (1–64 characters) and an account cannot hold one ward twice. Other roles have no rows here.
CREATE TABLE user_wards (
  user_id uuid NOT NULL REFERENCES users (id),
  ward    text NOT NULL CHECK (length(ward) BETWEEN 1 AND 64),
  PRIMARY KEY (user_id, ward)
);
