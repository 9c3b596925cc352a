// Fault: PostgreSQL stops for 30 s mid-stream and comes back. Every reading published during the
// outage is stored afterwards (memory buffer, then the disk spill: WRITE_BUFFER_MAX is kept small
// so the spill is used), and alarms keep being raised from the live stream meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, connectSocket, collect, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';
import { startEmbeddedPostgres, type EmbeddedPg } from '../helpers/postgres.ts';
import type { AlertEvent } from '../../server/domain/events.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OUTAGE_MS = 30_000;

describe('database outage', () => {
  let pgServer: EmbeddedPg;
  let stack: Stack;

  beforeAll(async () => {
    pgServer = await startEmbeddedPostgres();
    stack = await startStack('postgres', pgServer.url, { WRITE_BUFFER_MAX: '1000' });
  });
  afterAll(async () => {
    await stack?.close().catch(() => undefined);
    await pgServer?.destroy();
  });

  it('stores every reading sent during a 30 s outage (via the spill) and raises alarms live meanwhile', async () => {
    const { patientId, deviceId, secret } = await stack.provision('F1', '1');
    const socket = await connectSocket(stack.base, stack.adminToken);
    expect((await socket.emitWithAck('subscribe', { patientId })).ok).toBe(true);
    const alerts = collect(socket, 'alert');
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);

    const normal = { hr: 72, rr: 15, spo2: 97, temp: 37, sbp: 125, dbp: 80 };
    // Deteriorating: RR 25 (3) + SpO2 92 (2) + HR 115 (2) + temp 38.6 (1) = NEWS2 8, high.
    const worse = { hr: 115, rr: 25, spo2: 92, temp: 38.6, sbp: 118, dbp: 76 };
    let values = normal;
    let seq = 0;
    let running = true;
    // 10 readings per message, 10 messages a second: 100 readings/s, ~3000 in the outage.
    const stream = (async () => {
      while (running) {
        const batch = Array.from({ length: 10 }, () => ({ ts: Date.now(), seq: seq++, ...values }));
        await publish(c, `devices/${deviceId}/vitals`, batch, 1);
        await sleep(100);
      }
    })();

    await sleep(1000);
    await pgServer.stop();
    await sleep(5000);
    // The patient deteriorates (a lasting change: NEWS2 scores the median of the recent readings).
    values = worse;
    const alarm = await eventually(() => alerts.find((e: AlertEvent) => e.kind === 'news2' && e.priority === 'high'), 10_000, 'NEWS2 high alarm during the outage');
    expect(alarm.patientId).toBe(patientId);
    await sleep(OUTAGE_MS - 5000 - 1000);
    const spilled = Number(/wardpulse_readings_spilled_total (\d+)/.exec(await (await fetch(`${stack.base}/metrics`)).text())?.[1] ?? 0);
    await pgServer.start();
    await sleep(1000);
    running = false;
    await stream;
    const total = seq;

    expect(spilled).toBeGreaterThan(0);
    const rows = await eventually(async () => {
      const r = await (stack.server.db.driver.query as (s: string, p: unknown[]) => Promise<{ rows: { n: number; d: number }[] }>)('SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM vitals WHERE device_id = $1', [deviceId]);
      return r.rows[0]!.n === total ? r.rows[0] : null;
    }, 60_000, `all ${total} readings stored`);
    expect(rows).toEqual({ n: total, d: total });
    const metrics = await (await fetch(`${stack.base}/metrics`)).text();
    expect(metrics).toMatch(/wardpulse_readings_dropped_total 0/);
    c.end(true);
    socket.close();
  }, 120_000);
});
