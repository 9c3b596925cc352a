-- 001 on TimescaleDB: hypertables, the 1-minute continuous aggregate, compression settings.
-- Compression and retention *policies* are applied at start from configuration (db/index.ts).
SELECT create_hypertable('vitals', by_range('time', INTERVAL '1 day'));
SELECT create_hypertable('scores', by_range('time', INTERVAL '7 days'));

CREATE MATERIALIZED VIEW vitals_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 minute', time) AS bucket,
       patient_id,
       count(*) AS n,
       avg(hr) AS hr, min(hr) AS hr_min, max(hr) AS hr_max, count(hr) AS hr_n,
       avg(spo2) AS spo2, min(spo2) AS spo2_min, max(spo2) AS spo2_max, count(spo2) AS spo2_n,
       avg(rr) AS rr, min(rr) AS rr_min, max(rr) AS rr_max, count(rr) AS rr_n,
       avg(temp) AS temp, min(temp) AS temp_min, max(temp) AS temp_max, count(temp) AS temp_n,
       avg(sbp) AS sbp, min(sbp) AS sbp_min, max(sbp) AS sbp_max, count(sbp) AS sbp_n,
       avg(dbp) AS dbp, min(dbp) AS dbp_min, max(dbp) AS dbp_max, count(dbp) AS dbp_n
FROM vitals
WHERE patient_id IS NOT NULL
GROUP BY 1, 2
WITH NO DATA;

-- The refresh window reaches as far back as a device may send late readings (decode.ts accepts
-- 30 days): a refresh only recomputes buckets that were invalidated, so a wide window is cheap.
SELECT add_continuous_aggregate_policy('vitals_1m',
  start_offset => INTERVAL '32 days', end_offset => INTERVAL '1 minute',
  schedule_interval => INTERVAL '1 minute');

ALTER TABLE vitals SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'patient_id, device_id',
  timescaledb.compress_orderby = 'time DESC, seq'
);
