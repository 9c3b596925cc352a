-- 005: queue token numbers are handed out by a counter per doctor and day, so a number is never
-- given twice — not even after the appointment that held it moved to another day.
CREATE TABLE queue_token_counters (
  doctor_id  uuid NOT NULL REFERENCES doctors (id),
  date       date NOT NULL,
  last_token integer NOT NULL CHECK (last_token > 0),
  PRIMARY KEY (doctor_id, date)
);
INSERT INTO queue_token_counters (doctor_id, date, last_token)
SELECT doctor_id, date, max(token_number) FROM appointments GROUP BY doctor_id, date;
