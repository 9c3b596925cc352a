-- 001 on plain PostgreSQL: no hypertables. A BRIN index keeps time-range scans cheap on an
-- append-mostly table; the 1-minute rollup is answered by a query (db/vitals-store.ts).
CREATE INDEX vitals_time_brin ON vitals USING brin (time);
CREATE INDEX scores_time_brin ON scores USING brin (time);
