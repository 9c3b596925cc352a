// Faults from devices: a flooding device is rate-limited (then disconnected) without hurting a
// normal one; malformed MQTT packets, oversized packets, huge payloads, deep JSON, non-numbers,
// far-off timestamps and duplicate seq values each get a precise refusal in GET /api/ingest-errors
// (before login: a count in GET /api/ingest-refusals), and the broker keeps serving everyone else.
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import type { MqttClient } from 'mqtt';
import { connectDevice, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('device faults', () => {
  let stack: Stack;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    // The production limits (20 msg/s, burst 100), not the test helper's generous ones.
    stack = await startStack('postgres', inject('pgUrl'), { DEVICE_MAX_MSG_PER_S: '20', DEVICE_MSG_BURST: '100' });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
  });

  const device = async (ward: string, bed: string) => {
    const d = await stack.provision(ward, bed);
    const c = await connectDevice(stack.mqttTcp, d.deviceId, d.secret);
    clients.push(c);
    return { ...d, c };
  };
  const errorsOf = async (deviceId?: string) =>
    (await stack.api('GET', `/api/ingest-errors?limit=500${deviceId ? `&deviceId=${deviceId}` : ''}`)).body.items as { reason: string; deviceId: string | null }[];
  const stored = async (deviceId: string) =>
    (await (stack.server.db.driver.query as (s: string, p: unknown[]) => Promise<{ rows: { n: number; d: number }[] }>)(
      'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM vitals WHERE device_id = $1',
      [deviceId],
    )).rows[0]!;

  it('rate-limits a device flooding at 100x its rate, reports it once a second, disconnects it after 10 s; a normal device loses nothing', async () => {
    const flood = await device('FL', '1');
    const calm = await device('FL', '2');
    const told: string[] = [];
    flood.c.on('message', (_t, m) => told.push(m.toString()));
    await new Promise((r) => flood.c.subscribe(`devices/${flood.deviceId}/errors`, { qos: 0 }, r));
    const closed = new Promise<number>((resolve) => flood.c.once('close', () => resolve(Date.now())));

    const started = Date.now();
    let floodSeq = 0;
    let stop = false;
    const flooding = (async () => {
      // 2000 msg/s in bursts of 20 every 10 ms, QoS 0.
      while (!stop && flood.c.connected) {
        for (let i = 0; i < 20; i++) flood.c.publish(`devices/${flood.deviceId}/vitals`, JSON.stringify({ seq: floodSeq++, hr: 80 }), { qos: 0 });
        await sleep(10);
      }
    })();
    let calmSeq = 0;
    const calmStream = (async () => {
      while (!stop) {
        await publish(calm.c, `devices/${calm.deviceId}/vitals`, { seq: calmSeq++, hr: 70 }, 1);
        await sleep(200);
      }
    })();
    const closedAt = await Promise.race([closed, sleep(20_000).then(() => 0)]);
    stop = true;
    await Promise.all([flooding, calmStream]);

    expect(closedAt).toBeGreaterThanOrEqual(started + 10_000);
    expect(closedAt - started).toBeLessThan(16_000);
    // The normal device lost nothing.
    const calmRows = await eventually(async () => {
      const r = await stored(calm.deviceId);
      return r.n === calmSeq ? r : null;
    }, 10_000, 'all calm readings stored');
    expect(calmRows.d).toBe(calmSeq);
    // The flood was partly let through (the sustained rate), the rest dropped and counted.
    const floodRows = await stored(flood.deviceId);
    expect(floodRows.n).toBeGreaterThan(0);
    expect(floodRows.n).toBeLessThan(floodSeq / 10);
    // The disconnect's row is the last one written: the errors writer flushes in batches, so wait for it.
    const errs = await eventually(async () => {
      const rows = await errorsOf(flood.deviceId);
      return rows.some((e) => /rate limit exceeded.*disconnected/.test(e.reason)) ? rows : null;
    }, 10_000, 'the disconnect recorded');
    const limited = errs.filter((e) => /rate limit exceeded/.test(e.reason));
    // One row per second of flooding at most, plus the disconnect.
    expect(limited.length).toBeGreaterThanOrEqual(8);
    expect(limited.length).toBeLessThanOrEqual(17);
    expect(limited.some((e) => /disconnected/.test(e.reason))).toBe(true);
    expect(told.some((t) => /rate limit exceeded/.test(t))).toBe(true);
    const metrics = await (await fetch(`${stack.base}/metrics`)).text();
    expect(Number(/wardpulse_device_messages_rate_limited_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(1000);
    expect(metrics).toMatch(/wardpulse_devices_disconnected_flooding_total 1/);
    // It may come back, within its rate.
    const again = await connectDevice(stack.mqttTcp, flood.deviceId, flood.secret);
    clients.push(again);
    await publish(again, `devices/${flood.deviceId}/vitals`, { seq: 1_000_000, hr: 81 }, 1);
  }, 60_000);

  it('refuses a malformed MQTT packet (raw bytes) with a recorded reason, before and after CONNECT, and keeps serving others', async () => {
    const other = await device('BI', '1');
    /** Open a raw TCP connection; write `first`, and `then` once the broker answered (CONNACK). */
    const raw = (first: Buffer, then?: Buffer) =>
      new Promise<void>((resolve) => {
        const s: Socket = tcpConnect(stack.server.mqttPort, '127.0.0.1', () => s.write(first));
        s.once('data', () => then && s.write(then));
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        setTimeout(() => s.destroy(), 5000);
      });
    // Reserved packet type 0 before any CONNECT.
    await raw(Buffer.from([0x00, 0x00]));
    // A valid CONNECT, then a PUBLISH with QoS 3 (reserved) on the same connection.
    const d = await stack.provision('BI', '2');
    const connectBytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: d.deviceId, keepalive: 30, username: d.deviceId, password: Buffer.from(d.secret) });
    await raw(connectBytes, Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));

    // After CONNECT: a row for the device. Before it: anyone's, so a count per minute and address.
    const mine = await eventually(async () => {
      const items = await errorsOf(d.deviceId);
      return items.length >= 1 ? items : null;
    }, 10_000, 'malformed packet recorded');
    expect(mine.map((e) => e.reason)).toEqual(['malformed packet: Packet must not have both QoS bits set to 1']);
    const counted = await eventually(async () => {
      const items = (await stack.api('GET', '/api/ingest-refusals?address=127.0.0.1&limit=1000')).body.items as { reason: string; count: number }[];
      return items.find((i) => i.reason === 'malformed packet: the first packet must be CONNECT, got reserved');
    }, 15_000, 'pre-CONNECT packet counted');
    expect(counted.count).toBe(1);
    expect((await errorsOf()).filter((e) => e.deviceId === null)).toEqual([]);
    await publish(other.c, `devices/${other.deviceId}/vitals`, { seq: 1, hr: 70 }, 1);
    await eventually(async () => (await stored(other.deviceId)).n === 1, 10_000, 'other device still served');
  });

  it('refuses each item of the bad-input corpus with a precise reason, stores duplicates once, and loses nothing else', async () => {
    const bad = await device('BI', '3');
    const good = await device('BI', '4');
    const topic = `devices/${bad.deviceId}/vitals`;
    const now = Date.now();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const corpus: [string, string | object, RegExp][] = [
      ['payload over 64 KiB (within the packet cap)', 'x'.repeat(65_600), /payload too large: 65600 bytes/],
      ['10k-deep JSON', deep, /a reading must be a JSON object, got array/],
      ['NaN', '{"hr": NaN, "seq": 1}', /malformed JSON/],
      ['Infinity', '{"hr": Infinity, "seq": 2}', /malformed JSON/],
      ['string in a numeric field', { hr: '80', spo2: 'high', seq: 3 }, /'hr' must be a number, got string "80"/],
      ['overflowing number', '{"hr": 1e400, "seq": 4}', /'hr' must be a number|'hr' Infinity/],
      ['far future', { ts: now + 365 * 86_400_000, hr: 70, seq: 5 }, /'ts' is \d+ s in the future/],
      ['far past', { ts: now - 400 * 86_400_000, hr: 70, seq: 6 }, /'ts' is more than \d+ days in the past/],
    ];
    for (const [, payload] of corpus) await publish(bad.c, topic, payload as string, 1);
    // The same seq twice: stored once.
    const dup = { ts: now, seq: 7, hr: 71 };
    await publish(bad.c, topic, dup, 1);
    await publish(bad.c, topic, dup, 1);
    await publish(good.c, `devices/${good.deviceId}/vitals`, { seq: 1, hr: 66 }, 1);

    const errs = await eventually(async () => {
      const items = await errorsOf(bad.deviceId);
      return items.length >= corpus.length ? items : null;
    }, 10_000, 'every corpus item recorded');
    const reasons = errs.map((e) => e.reason).join('\n');
    for (const [what, , reason] of corpus) expect(reasons, what).toMatch(reason);
    const rows = await eventually(async () => {
      const r = await stored(bad.deviceId);
      return r.n >= 1 ? r : null;
    }, 10_000, 'duplicate stored');
    await sleep(300);
    expect(await stored(bad.deviceId)).toEqual({ n: 1, d: 1 });
    expect(rows.n).toBe(1);
    await eventually(async () => (await stored(good.deviceId)).n === 1, 10_000, 'good device stored');
    expect(bad.c.connected).toBe(true);

    // A 1 MB payload is a packet over the cap: refused at its header, the connection closed
    // (MQTT 3.1.1 cannot say why), recorded for the device; the others are still served.
    const big = await device('BI', '5');
    const closed = new Promise((r) => big.c.stream.once('close', r));
    big.c.publish(`devices/${big.deviceId}/vitals`, 'x'.repeat(1024 * 1024), { qos: 1 });
    await closed;
    const bigErrs = await eventually(async () => {
      const items = await errorsOf(big.deviceId);
      return items.length >= 1 ? items : null;
    }, 10_000, '1 MB packet recorded');
    expect(bigErrs.map((e) => e.reason)).toEqual([expect.stringMatching(/^packet too large: PUBLISH over \d+ bytes$/)]);
    await publish(good.c, `devices/${good.deviceId}/vitals`, { seq: 2, hr: 67 });
    await eventually(async () => (await stored(good.deviceId)).n === 2, 10_000, 'good device still stored');
  });
});
