// Faults around connections: the server restarts under a streaming device (QoS 1, persistent
// session: mqtt.js keeps what it could not deliver and sends it once the broker is back) and a
// dashboard (it reconnects and back-fills over REST); and 1000 devices connect at once.
import { afterAll, describe, expect, inject, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { io as ioClient } from 'socket.io-client';
import { eventually, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const count = async (stack: Stack, where: string, params: unknown[]) =>
  (await (stack.server.db.driver.query as (s: string, p: unknown[]) => Promise<{ rows: { n: number; d: number }[] }>)(
    `SELECT count(*)::int AS n, count(DISTINCT (device_id, seq))::int AS d FROM vitals WHERE ${where}`,
    params,
  )).rows[0]!;

describe('server restart', () => {
  let stack: Stack;
  afterAll(async () => stack?.close());

  it('devices resend what they queued while the server was down; dashboards reconnect and back-fill', async () => {
    stack = await startStack('postgres', inject('pgUrl'));
    const { patientId, deviceId, secret } = await stack.provision('RS', '1');
    const c: MqttClient = mqtt.connect(stack.mqttTcp, { clientId: deviceId, username: deviceId, password: secret, clean: false, reconnectPeriod: 200, connectTimeout: 5000 });
    await new Promise((r) => c.once('connect', r));
    const socket: LiveSocket = ioClient(stack.base, { auth: { token: stack.adminToken }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 500 });
    let connects = 0;
    socket.on('connect', () => {
      connects++;
      // What a dashboard does on every (re)connect: subscribe again.
      socket.emit('subscribe', { patientId }, () => undefined);
    });
    await eventually(() => connects === 1, 5000, 'dashboard connected');

    let seq = 0;
    let running = true;
    const acked: Promise<void>[] = [];
    const stream = (async () => {
      while (running) {
        const s = seq++;
        // Not awaited: while the broker is away, mqtt.js stores QoS 1 messages and resends them.
        acked.push(new Promise((resolve, reject) => c.publish(`devices/${deviceId}/vitals`, JSON.stringify({ ts: Date.now(), seq: s, hr: 70 }), { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
        await sleep(50);
      }
    })();
    await sleep(1000);
    const beforeRestart = seq;
    // The token is re-issued after the restart, the same JWT secret is kept in DATA_DIR.
    await stack.restart({ samePorts: true });
    await sleep(1000);
    running = false;
    await stream;
    expect(seq).toBeGreaterThan(beforeRestart);
    await Promise.all(acked);

    const rows = await eventually(async () => {
      const r = await count(stack, 'device_id = $1', [deviceId]);
      return r.d === seq ? r : null;
    }, 30_000, `all ${seq} readings stored`);
    expect(rows.d).toBe(seq);
    // The dashboard came back by itself and can back-fill the gap.
    await eventually(() => connects >= 2, 10_000, 'dashboard reconnected');
    const history = await stack.api('GET', `/api/patients/${patientId}/vitals?limit=1000`);
    expect(history.status).toBe(200);
    expect(history.body.items.length).toBeGreaterThanOrEqual(Math.min(seq, 100));
    c.end(true);
    socket.close();
  }, 90_000);
});

describe('device storm', () => {
  let stack: Stack;
  afterAll(async () => stack?.close());

  it('accepts 1000 devices connecting at once, each publishing a reading, all stored', async () => {
    stack = await startStack('postgres', inject('pgUrl'), { ALLOW_ANONYMOUS_DEVICES: 'true' });
    const N = 1000;
    const ids = Array.from({ length: N }, (_, i) => `storm-${String(i).padStart(4, '0')}`);
    const clients: MqttClient[] = [];
    try {
      await Promise.all(
        ids.map(
          (id) =>
            new Promise<void>((resolve, reject) => {
              const c = mqtt.connect(stack.mqttTcp, { clientId: id, reconnectPeriod: 0, connectTimeout: 30_000 });
              clients.push(c);
              c.once('error', reject);
              c.once('connect', () => c.publish(`devices/${id}/vitals`, JSON.stringify({ seq: 1, hr: 70 }), { qos: 1 }, (err) => (err ? reject(err) : resolve())));
            }),
        ),
      );
      const metrics = await (await fetch(`${stack.base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`wardpulse_devices_connected ${N}\\b`));
      const rows = await eventually(async () => {
        const r = await count(stack, "device_id LIKE 'storm-%'", []);
        return r.n === N ? r : null;
      }, 30_000, `${N} readings stored`);
      expect(rows).toEqual({ n: N, d: N });
    } finally {
      for (const c of clients) c.end(true);
    }
  }, 120_000);
});
