// Drivers: the limits before login are the broker's, above the database, so that block runs on PostgreSQL only; the retention of what refusals write runs on both drivers (last block).
// The MQTT broker before login (issue 11, findings 1, 3, 4 and part of 9), over real sockets:
// packets capped by their header on TCP and WebSocket, an authentication deadline, a bound on
// unauthenticated connections per source address, refusals labelled and counted per minute and
// address (not a row each), lockouts keyed by (device, address), and connections per device.
// Each test attacks from its own loopback address (127.0.0.x), as a separate host would.
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';
import { connectDevice, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';
import { MAX_PUBLISH_REMAINING } from '../../broker/packet-guard.ts';
import { WS_MAX_PAYLOAD } from '../../broker/index.ts';
import { fixedHeader } from '../helpers/mqtt-bytes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const header = fixedHeader;
const connectPacket = (clientId: string, username: string, password: string) =>
  mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username, password: Buffer.from(password) });

describe('the MQTT broker before login', () => {
  let stack: Stack;
  const clients: MqttClient[] = [];
  const sockets: Socket[] = [];
  beforeAll(async () => {
    stack = await startStack('postgres', inject('pgUrl'), { MQTT_AUTH_TIMEOUT_S: '2', MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '5' });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const s of sockets) s.destroy();
    await stack?.close();
  });

  const port = () => stack.server.mqttPort;
  const raw = (localAddress: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = tcpConnect({ port: port(), host: '127.0.0.1', localAddress }, () => resolve(s));
      sockets.push(s);
      s.on('error', () => undefined);
      s.once('error', reject);
    });
  /** ms until the socket closes, or null if it is still open after `ms`. */
  const closesWithin = (s: Socket | WebSocket, ms: number) =>
    new Promise<number | null>((resolve) => {
      const t0 = Date.now();
      const t = setTimeout(() => resolve(null), ms);
      s.once('close', () => {
        clearTimeout(t);
        resolve(Date.now() - t0);
      });
    });
  /** CONNECT from `localAddress`; the CONNACK return code, or 'closed' without one. */
  const rawConnect = async (localAddress: string, packet: Buffer) => {
    const s = await raw(localAddress);
    return new Promise<number | 'closed'>((resolve) => {
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (p) => {
        if (p.cmd === 'connack') {
          resolve((p as mqttPacket.IConnackPacket).returnCode ?? 0);
          s.destroy();
        }
      });
      s.on('data', (d) => parser.parse(d));
      s.on('close', () => resolve('closed'));
      s.write(packet);
    });
  };
  /** An mqtt.js device whose socket comes from `localAddress`. */
  const deviceFrom = (localAddress: string, clientId: string, username: string, password: string) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = new mqtt.MqttClient(() => tcpConnect({ port: port(), host: '127.0.0.1', localAddress }), { clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', (err) => {
        c.end(true);
        reject(err);
      });
    });
  const refusalsFrom = async (address: string) => {
    const r = await stack.api('GET', `/api/ingest-refusals?address=${address}&limit=1000`);
    expect(r.status).toBe(200);
    const byReason: Record<string, number> = {};
    for (const i of r.body.items as { reason: string; count: number }[]) byReason[i.reason] = (byReason[i.reason] ?? 0) + i.count;
    return byReason;
  };
  const metrics = async () => (await fetch(`${stack.base}/metrics`)).text();

  it('labels 200 failed CONNECTs by what they are and counts them per minute and address: no row, no lockout row for a made-up id', async () => {
    const d = await stack.provision('ML', '1');
    const before = (await stack.api('GET', '/api/ingest-errors?limit=1000')).body.items.length;
    const codes: (number | 'closed')[] = [];
    // Five at a time (this stack allows five unauthenticated connections per address).
    for (let i = 0; i < 200; i += 5) {
      codes.push(...(await Promise.all(Array.from({ length: 5 }, () => rawConnect('127.0.0.2', connectPacket(d.deviceId, d.deviceId, 'wrong-secret-wrong-secret-wrong!'))))));
    }
    expect(codes.every((c) => c === 5)).toBe(true);
    for (let i = 0; i < 5; i++) expect(await rawConnect('127.0.0.2', connectPacket('someone-else', d.deviceId, d.secret))).toBe(2);
    for (let i = 0; i < 5; i++) expect(await rawConnect('127.0.0.2', connectPacket('dev-made-up', 'dev-made-up', 'guess'))).toBe(5);
    const badProtocol = connectPacket(d.deviceId, d.deviceId, d.secret);
    badProtocol.write('MQTX', 4); // protocol name after the fixed header (2 bytes) and its length (2)
    for (let i = 0; i < 3; i++) expect(await rawConnect('127.0.0.2', badProtocol)).toBe('closed');

    const counted = await eventually(async () => {
      const r = await refusalsFrom('127.0.0.2');
      return Object.values(r).reduce((a, b) => a + b, 0) >= 213 ? r : null;
    }, 15_000, 'refusals counted');
    expect(counted).toEqual({
      'bad credentials': 15, // 10 for the device before its lock from this address, 5 made-up
      'locked out': 190,
      'client id mismatch': 5,
      'malformed packet: Invalid protocolId': 3,
    });
    // Not a row per attempt: one security event (the lockout of the provisioned device), nothing else.
    const rows = (await stack.api('GET', '/api/ingest-errors?limit=1000')).body.items as { deviceId: string | null; reason: string }[];
    expect(rows.length - before).toBe(1);
    expect(rows[0]).toMatchObject({ deviceId: d.deviceId, reason: expect.stringMatching(/^locked out: 10 failed secrets from 127\.0\.0\.2; refused from that address for 60 s$/) });
    const m = await metrics();
    expect(m).toMatch(/wardpulse_mqtt_connections_refused_total\{reason="locked_out"\} 190/);
    expect(m).toMatch(/wardpulse_mqtt_connections_refused_total\{reason="client_id_mismatch"\} 5/);
    // A reason, an address or a time window selects; a bad filter is a 400 naming the field.
    expect((await stack.api('GET', '/api/ingest-refusals?reason=locked%20out&address=127.0.0.2')).body.items.every((i: { reason: string }) => i.reason === 'locked out')).toBe(true);
    expect((await stack.api('GET', '/api/ingest-refusals?from=2999-01-01T00:00:00Z')).body.items).toEqual([]);
    const bad = await stack.api('GET', '/api/ingest-refusals?from=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/from/);
    const nurse = await stack.api('POST', '/api/auth/register', { email: 'nurse-ml@test.local', name: 'Nurse', password: 'nurse-password-ml-1', role: 'nurse' });
    expect(nurse.status).toBe(201);
    expect((await stack.api('GET', '/api/ingest-refusals', undefined, await stack.login('nurse-ml@test.local', 'nurse-password-ml-1'))).status).toBe(403);
  }, 60_000);

  it('locks out (device, address) only: ten wrong secrets from one address do not lock the device out from its own', async () => {
    // Never connected since the start, so no verified secret is cached: "every device, right after a restart".
    const d = await stack.provision('ML', '2');
    for (let i = 0; i < 10; i++) expect(await rawConnect('127.0.0.3', connectPacket(d.deviceId, d.deviceId, `guess-${i}`))).toBe(5);
    // From the attacker's address even the right secret is refused now …
    expect(await rawConnect('127.0.0.3', connectPacket(d.deviceId, d.deviceId, d.secret))).toBe(5);
    // … while the device, from its own address, connects and publishes.
    const c = await deviceFrom('127.0.0.1', d.deviceId, d.deviceId, d.secret);
    await publish(c, `devices/${d.deviceId}/vitals`, { seq: 1, hr: 72 });
    const rows = await eventually(async () => {
      const r = (await stack.api('GET', `/api/ingest-errors?deviceId=${d.deviceId}`)).body.items as { reason: string }[];
      return r.length > 0 ? r : null;
    }, 10_000, 'lockout recorded');
    expect(rows.map((r) => r.reason)).toEqual(['locked out: 10 failed secrets from 127.0.0.3; refused from that address for 60 s']);
    expect(await metrics()).toMatch(/wardpulse_device_lockouts_total [2-9]/);
  }, 30_000);

  it('limits connections per device (MQTT_MAX_CONNECTIONS_PER_DEVICE, 4); a same-id reconnect takes over', async () => {
    const d = await stack.provision('ML', '3');
    const own = await connectDevice(stack.mqttTcp, d.deviceId, d.secret);
    clients.push(own);
    const extra: MqttClient[] = [];
    for (const suffix of ['a', 'b', 'c']) {
      const c = await connectDevice(stack.mqttTcp, `${d.deviceId}:${suffix}`, d.secret, { username: d.deviceId });
      clients.push(c);
      extra.push(c);
    }
    const fifth = await connectDevice(stack.mqttTcp, `${d.deviceId}:d`, d.secret, { username: d.deviceId }).then(
      () => 'accepted',
      (err: Error & { code?: number }) => err.code,
    );
    expect(fifth).toBe(5);
    // Taking over an existing client id is not a new connection.
    const again = await connectDevice(stack.mqttTcp, `${d.deviceId}:a`, d.secret, { username: d.deviceId });
    clients.push(again);
    await eventually(() => !extra[0]!.connected, 5000, 'the taken-over connection closed');
    // One closed: room for another.
    extra[1]!.end(true);
    await sleep(200);
    const d2 = await connectDevice(stack.mqttTcp, `${d.deviceId}:d`, d.secret, { username: d.deviceId });
    clients.push(d2);
    expect((await eventually(async () => (await refusalsFrom('127.0.0.1'))['too many connections for this device'], 15_000, 'counted'))).toBe(1);

    // A closed connection gives its place back, over WebSocket too: six in a row, one at a time.
    const w = await stack.provision('ML', '4');
    for (let i = 0; i < 6; i++) {
      const c = await connectDevice(stack.mqttWs, w.deviceId, w.secret, i % 2 ? { clientId: `${w.deviceId}:${i}`, username: w.deviceId } : {});
      await new Promise<void>((r) => c.end(false, {}, () => r()));
      await sleep(100);
    }
    await eventually(async () => /wardpulse_mqtt_unauthenticated_connections 0\b/.test(await metrics()), 5000, 'no connection left pending');
  }, 30_000);

  it('closes a socket that has not authenticated by MQTT_AUTH_TIMEOUT_S, idle or trickling a CONNECT', async () => {
    const idle = await raw('127.0.0.4');
    const trickle = await raw('127.0.0.4');
    // A CONNECT declaring 60 bytes, sent a byte every 300 ms: it never completes in time.
    const bytes = Buffer.concat([header(1, 60), Buffer.alloc(60)]);
    let i = 0;
    const drip = setInterval(() => i < bytes.length && !trickle.destroyed && trickle.write(bytes.subarray(i, ++i)), 300);
    const [a, b] = await Promise.all([closesWithin(idle, 6000), closesWithin(trickle, 6000)]);
    clearInterval(drip);
    for (const t of [a, b]) {
      expect(t).not.toBeNull();
      expect(t!).toBeGreaterThan(1500);
      expect(t!).toBeLessThan(3500);
    }
    expect((await eventually(async () => (await refusalsFrom('127.0.0.4'))['authentication timeout'] === 2, 15_000, 'counted'))).toBe(true);
  }, 30_000);

  it('refuses a sixth unauthenticated connection from one address (MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS, 5), not from others', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => raw('127.0.0.5')));
    await eventually(async () => /wardpulse_mqtt_unauthenticated_connections ([5-9]|\d\d)/.test(await metrics()), 5000, 'five pending');
    const sixth = await raw('127.0.0.5');
    expect(await closesWithin(sixth, 1000)).not.toBeNull();
    // Another address is not affected.
    const d = await stack.provision('ML', '5');
    clients.push(await deviceFrom('127.0.0.6', d.deviceId, d.deviceId, d.secret));
    for (const s of held) s.destroy();
    await sleep(200);
    const later = await raw('127.0.0.5');
    expect(await closesWithin(later, 500)).toBeNull();
    later.destroy();
    expect((await eventually(async () => (await refusalsFrom('127.0.0.5'))['too many unauthenticated connections from this address'], 15_000, 'counted'))).toBe(1);
  }, 30_000);

  it('closes a 250 MB CONNECT at its header, on TCP and on WebSocket, and keeps serving', async () => {
    const s = await raw('127.0.0.7');
    const closed = closesWithin(s, 3000);
    s.write(header(1, 250 * 1024 * 1024));
    // Stream the body as an attacker would, until the server hangs up.
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    let sent = 0;
    while (!s.destroyed && sent < 8 * 1024 * 1024) {
      if (!s.write(chunk)) await new Promise((r) => setTimeout(r, 5));
      sent += chunk.length;
      if (sent % (256 * 1024) === 0) await new Promise((r) => setImmediate(r));
    }
    expect(await closed).not.toBeNull();

    const ws = new WebSocket(`${stack.mqttWs}`, 'mqtt', { localAddress: '127.0.0.7' });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const wsClosed = closesWithin(ws, 3000);
    // The header split over two frames: the guard reads the byte stream, not frames.
    const h = header(1, 250 * 1024 * 1024);
    ws.send(h.subarray(0, 2));
    ws.send(Buffer.concat([h.subarray(2), Buffer.alloc(16 * 1024)]));
    for (let i = 0; i < 64 && ws.readyState === WebSocket.OPEN; i++) ws.send(Buffer.alloc(16 * 1024));
    expect(await wsClosed).not.toBeNull();

    const r = await eventually(async () => {
      const x = await refusalsFrom('127.0.0.7');
      return x['packet too large: CONNECT over 4096 bytes'] === 2 ? x : null;
    }, 15_000, 'counted');
    expect(r).toEqual({ 'packet too large: CONNECT over 4096 bytes': 2 });
    const d = await stack.provision('ML', '7');
    const c = await connectDevice(stack.mqttWs, d.deviceId, d.secret);
    clients.push(c);
    await publish(c, `devices/${d.deviceId}/vitals`, { seq: 1, hr: 70 });
  }, 30_000);

  it('closes an authenticated device sending a PUBLISH over the packet cap and records it for the device; WebSocket messages are capped alike', async () => {
    const d = await stack.provision('ML', '8');
    const c = await connectDevice(stack.mqttTcp, d.deviceId, d.secret);
    clients.push(c);
    const gone = new Promise((r) => c.stream.once('close', r));
    c.publish(`devices/${d.deviceId}/vitals`, 'x'.repeat(100 * 1024), { qos: 0 });
    await gone;
    const rows = await eventually(async () => {
      const r = (await stack.api('GET', `/api/ingest-errors?deviceId=${d.deviceId}`)).body.items as { reason: string }[];
      return r.length > 0 ? r : null;
    }, 10_000, 'recorded');
    expect(rows.map((r) => r.reason)).toEqual([`packet too large: PUBLISH over ${MAX_PUBLISH_REMAINING} bytes`]);

    // Over WebSocket (mqtt.js sends the fixed header in a frame of its own): the same guard.
    const w = await connectDevice(stack.mqttWs, d.deviceId, d.secret);
    clients.push(w);
    const wGone = new Promise((r) => w.stream.once('close', r));
    w.publish(`devices/${d.deviceId}/vitals`, 'x'.repeat(100 * 1024), { qos: 0 });
    await wGone;
    const both = await eventually(async () => {
      const r = (await stack.api('GET', `/api/ingest-errors?deviceId=${d.deviceId}`)).body.items as { reason: string }[];
      return r.length >= 2 ? r : null;
    }, 10_000, 'WebSocket refusal recorded');
    expect(both.map((r) => r.reason)).toEqual([`packet too large: PUBLISH over ${MAX_PUBLISH_REMAINING} bytes`, `packet too large: PUBLISH over ${MAX_PUBLISH_REMAINING} bytes`]);
  }, 30_000);

  it('closes a WebSocket message over its cap (ws maxPayload) before it is buffered whole', async () => {
    expect(WS_MAX_PAYLOAD).toBeLessThan(70 * 1024);
    const ws = new WebSocket(stack.mqttWs, 'mqtt', { localAddress: '127.0.0.8' });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const code = new Promise<number>((r) => ws.once('close', (c) => r(c)));
    // A small CONNECT-looking header, then 1 MiB in the same message (allowed before this fix).
    ws.send(Buffer.concat([header(1, 100), Buffer.alloc(1024 * 1024)]));
    expect(await code).toBe(1009); // RFC 6455 §7.4.1: message too big
    expect(await eventually(async () => (await refusalsFrom('127.0.0.8'))[`packet too large: WebSocket message over ${WS_MAX_PAYLOAD} bytes`], 15_000, 'counted')).toBe(1);
  }, 30_000);
});

// INGEST_ERRORS_RETAIN_FOR (default 30 days): ingest_errors and the refusal counts are deleted
// past it, at start and hourly; the audit log keeps everything. On both drivers.
for (const kind of ['postgres', 'pglite'] as const) {
  describe(`ingest error retention on ${kind}`, () => {
    let stack: Stack;
    afterAll(async () => stack?.close());

    it('deletes ingest errors and refusal counts older than INGEST_ERRORS_RETAIN_FOR, keeps newer ones and the audit log', async () => {
      stack = await startStack(kind, kind === 'postgres' ? inject('pgUrl') : undefined);
      // The server's driver of the moment (restart() replaces the server).
      const q = (sql: string, p?: unknown[]) => (stack.server.db.driver.query as (sql: string, p?: unknown[]) => Promise<{ rows: { n: number }[] }>)(sql, p);
      const audits = async () => (await q('SELECT count(*)::int AS n FROM audit_log')).rows[0]!.n;
      await q(`INSERT INTO ingest_errors (time, device_id, topic, reason, refused) VALUES
        (now() - interval '40 days', 'old-dev', '(mqtt)', 'old', true), (now() - interval '29 days', 'recent-dev', '(mqtt)', 'recent', true)`);
      await q(`INSERT INTO ingest_refusals (minute, address, reason, count) VALUES
        (date_trunc('minute', now() - interval '31 days'), '10.0.0.1', 'bad credentials', 5), (date_trunc('minute', now() - interval '1 day'), '10.0.0.1', 'bad credentials', 7)`);
      const auditBefore = await audits();
      await stack.restart();
      const left = await eventually(async () => {
        const e = (await stack.api('GET', '/api/ingest-errors?limit=1000')).body.items as { reason: string }[];
        return e.some((x) => x.reason === 'old') ? null : e;
      }, 20_000, 'old ingest errors deleted');
      expect(left.map((x) => x.reason)).toContain('recent');
      const r = (await stack.api('GET', '/api/ingest-refusals?address=10.0.0.1')).body.items as { count: number }[];
      expect(r.map((x) => x.count)).toEqual([7]);
      expect(await audits()).toBeGreaterThanOrEqual(auditBefore);
    }, 120_000);
  });
}
