-- Issue 11, finding 3: refusals before login are counted, not written one row each.
-- MQTT connections refused before they authenticated (bad credentials, client id mismatch, locked
-- out, malformed or oversized packet, authentication timeout, too many unauthenticated
-- connections from one address …), one row per minute, source address and reason, with a count.
CREATE TABLE ingest_refusals (
  minute  timestamptz NOT NULL,
  address text NOT NULL,
  reason  text NOT NULL,
  count   integer NOT NULL CHECK (count > 0),
  PRIMARY KEY (minute, address, reason)
);

-- Retention (INGEST_ERRORS_RETAIN_FOR) deletes ingest_errors by time.
CREATE INDEX ingest_errors_time ON ingest_errors (time);
