-- Issue 10 (clinical safety of the alarm path).
-- The NEWS2 total at the moment an alarm was acknowledged: a rise of 2 or more within the same band
-- after it is pushed as news (docs/alarms.md §2).
ALTER TABLE alerts ADD COLUMN acknowledged_value double precision;

-- What the monitoring engine knows of each patient beyond the alarms themselves — the latest value
-- of every parameter with its times and source, the last full manual observation set, the manual
-- freshness window, pending alarm condition delays, trend baselines — saved every few seconds and
-- at shutdown, so a restart continues where it stopped (docs/alarms.md §7).
CREATE TABLE monitor_state (
  patient_id uuid PRIMARY KEY,
  state      jsonb NOT NULL,
  saved_at   timestamptz NOT NULL
);

-- Manual observations are few among the device rows: a restart finds the last hours of them fast.
CREATE INDEX vitals_manual_time ON vitals (time DESC) WHERE source = 'manual';
