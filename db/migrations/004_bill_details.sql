-- 004: a bill remembers the consultation it is for and the tax rate and discount it applied.
ALTER TABLE bills
  ADD COLUMN appointment_id   uuid REFERENCES appointments (id),
  ADD COLUMN tax_rate_bp      integer NOT NULL DEFAULT 0 CHECK (tax_rate_bp >= 0),
  ADD COLUMN discount_rule    jsonb;
CREATE INDEX bills_appointment ON bills (appointment_id);
