// One driver (PostgreSQL): it stops and restarts a PostgreSQL server under the running app, which in-process PGlite has no counterpart of; a restart on both drivers is in clinical-safety.int.test.ts.
// Nothing is lost: a PostgreSQL restart mid-stream, and a graceful shutdown with readings still
// buffered. Uses its own embedded PostgreSQL so the test can stop and start the real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectDevice, connectSocket, collect, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';
import { startEmbeddedPostgres, type EmbeddedPg } from '../helpers/postgres.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function countRows(url: string, deviceId: string): Promise<{ n: number; distinct: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM vitals WHERE device_id = $1', [deviceId]);
    return { n: rows[0].n, distinct: rows[0].d };
  } finally {
    await c.end();
  }
}

describe('durability on PostgreSQL', () => {
  let pgServer: EmbeddedPg;
  let stack: Stack;
  let dbUrl: string;

  beforeAll(async () => {
    pgServer = await startEmbeddedPostgres();
    stack = await startStack('postgres', pgServer.url);
    dbUrl = await stackDatabaseUrl();
  });
  afterAll(async () => {
    await stack?.close().catch(() => undefined);
    await pgServer?.destroy();
  });

  // The stack made its own database (the only wp_test_* on this server); check it directly.
  const stackDatabaseUrl = async () => {
    const c = new pg.Client({ connectionString: pgServer.url });
    await c.connect();
    const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'wp_test_%' ORDER BY oid DESC LIMIT 1`);
    await c.end();
    const u = new URL(pgServer.url);
    u.pathname = `/${rows[0].datname}`;
    return u.toString();
  };

  it('loses no reading when PostgreSQL restarts mid-stream, and keeps scoring live meanwhile', async () => {
    const { patientId, deviceId, secret } = await stack.provision('D1', '1');
    const socket = await connectSocket(stack.base, stack.adminToken);
    await socket.emitWithAck('subscribe', { patientId });
    const vitals = collect(socket, 'vitals');
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);

    const total = 300;
    let outageStart = 0;
    let outageEnd = 0;
    const stream = (async () => {
      for (let seq = 0; seq < total; seq++) {
        await publish(c, `devices/${deviceId}/vitals`, { ts: Date.now(), seq, hr: 60 + (seq % 30), spo2: 97 }, 1);
        await sleep(10);
      }
    })();
    await sleep(700);
    await pgServer.stop();
    outageStart = Date.now();
    const livePushedDuringOutage = vitals.length;
    await sleep(2000);
    const liveAfterOutage = vitals.length;
    await pgServer.start();
    outageEnd = Date.now();
    await stream;

    // Live data kept flowing while the database was down.
    expect(liveAfterOutage).toBeGreaterThan(livePushedDuringOutage);
    expect(outageEnd - outageStart).toBeGreaterThanOrEqual(2000);

    const counts = await eventually(async () => {
      const r = await countRows(dbUrl, deviceId);
      return r.n === total ? r : null;
    }, 30_000, `all ${total} readings stored`);
    expect(counts).toEqual({ n: total, distinct: total });
    const metrics = await (await fetch(`${stack.base}/metrics`)).text();
    expect(metrics).toMatch(/wardpulse_readings_dropped_total 0/);
    expect(Number(/wardpulse_write_errors_total\{table="vitals"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    c.end(true);
    socket.close();
  });

  it('stores readings of an unassigned device against the device, unscored, and follows a reassignment', async () => {
    const d = await stack.api('POST', '/api/devices', { label: 'spare monitor' });
    expect(d.status).toBe(201);
    const c = await connectDevice(stack.mqttTcp, d.body.id, d.body.secret);
    await publish(c, `devices/${d.body.id}/vitals`, { seq: 1, hr: 88 });
    const { patientId } = await stack.provision('D1', '3');
    const assigned = await stack.api('PUT', `/api/devices/${d.body.id}`, { patientId });
    expect(assigned.body).toMatchObject({ id: d.body.id, patientId });
    await publish(c, `devices/${d.body.id}/vitals`, { seq: 2, hr: 90 });
    const rows = await eventually(async () => {
      const client = new pg.Client({ connectionString: dbUrl });
      await client.connect();
      const r = await client.query('SELECT seq::int, patient_id FROM vitals WHERE device_id = $1 ORDER BY seq', [d.body.id]);
      await client.end();
      return r.rows.length === 2 ? r.rows : null;
    });
    expect(rows).toEqual([
      { seq: 1, patient_id: null },
      { seq: 2, patient_id: patientId },
    ]);
    const score = await eventually(async () => {
      const r = await stack.api('GET', `/api/patients/${patientId}/score`);
      return r.status === 200 ? r.body : null;
    });
    expect(score.news2.parameters.hr).toBe(0);
    c.end(true);
  });

  it('flushes buffered readings on graceful shutdown', async () => {
    const { deviceId, secret } = await stack.provision('D1', '2');
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    const batch = Array.from({ length: 500 }, (_, i) => ({ ts: Date.now() - 10_000 + i, seq: i, hr: 70 }));
    await publish(c, `devices/${deviceId}/vitals`, batch, 1);
    // Close right away: the rows are still in the write buffer.
    await stack.server.close();
    c.end(true);
    expect(await countRows(dbUrl, deviceId)).toEqual({ n: 500, distinct: 500 });
  });
});
