// One driver (PostgreSQL): the alarm engine, escalation and webhooks run in memory, above the database; alarms read back from the database run on both drivers in clinical-safety.int.test.ts (restart).
// Alarm management end to end on real PostgreSQL, with real MQTT and Socket.IO clients and a real
// local webhook receiver: a deterioration raises the expected alarms in order, nobody acknowledges
// so it escalates (signed webhook), acknowledging from one dashboard updates another, a silent
// device raises a technical alarm, and every transition is in the audit trail.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { MqttClient } from 'mqtt';
import { collect, connectDevice, connectSocket, eventually, publish, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';
import { verifySignature } from '../../server/notify/webhook.ts';
import type { AlertEvent } from '../../server/domain/events.ts';

const SECRET = 'webhook-secret-for-tests';
const MIN = 60_000;

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('alarm management on PostgreSQL', () => {
  let stack: Stack;
  let receiver: Server;
  const deliveries: Delivery[] = [];
  let failFirst = true;
  const clients: MqttClient[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    // A pager gateway that fails once (to exercise the retry), then accepts.
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    stack = await startStack('postgres', inject('pgUrl'), {
      ESCALATE_AFTER_S: '5',
      WEBHOOK_URL: `http://127.0.0.1:${port}/pager`,
      WEBHOOK_SECRET: SECRET,
      DEVICE_SILENCE_S: '5',
    });
  });

  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const s of sockets) s.close();
    await stack?.close();
    receiver?.close();
  });

  async function nurse(email: string): Promise<string> {
    const r = await stack.api('POST', '/api/auth/register', { email, name: email.split('@')[0], password: 'nurse-password-1', role: 'nurse' });
    expect(r.status).toBe(201);
    return stack.login(email, 'nurse-password-1');
  }

  async function dashboard(token: string, patientId: string) {
    const s = await connectSocket(stack.base, token);
    sockets.push(s);
    const alerts = collect(s, 'alert');
    const escalations = collect(s, 'escalation');
    expect((await s.emitWithAck('subscribe', { patientId })).ok).toBe(true);
    return { s, alerts, escalations };
  }

  it('raises trend, NEWS2 medium and NEWS2 high alarms in order as a patient deteriorates, then escalates, signed', async () => {
    const { patientId, deviceId, secret } = await stack.provision('AL', '1');
    const tokenA = await nurse('nurse-a@test.local');
    const a = await dashboard(tokenA, patientId);
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);

    // An hour of history, one reading a minute: stable, then from 25 minutes ago a sepsis-like
    // drift over 15 minutes (sent in batches with their measurement times, as a monitor back-fills
    // after a gap). HR passes its baseline +20% about 17 minutes ago: a sustained trend.
    const now = Date.now();
    const history = [];
    for (let i = 60; i >= 1; i--) {
      const drift = Math.min(1, Math.max(0, 25 - i) / 15);
      history.push({ ts: now - i * MIN, seq: 60 - i, hr: Math.round(72 + 30 * drift), rr: Math.round(15 + 7 * drift), spo2: 97, temp: 37, sbp: 125, dbp: 80 });
    }
    await publish(c, `devices/${deviceId}/vitals`, history.slice(0, 30));
    await publish(c, `devices/${deviceId}/vitals`, history.slice(30));
    // The nurse has assessed the patient (alert, on air): the score is complete.
    expect((await stack.api('POST', `/api/patients/${patientId}/observations`, { acvpu: 'A', o2: false }, tokenA)).status).toBe(201);
    // Now: HR 102 (1) + RR 22 (2) + SpO2 95 (1) + temp 38.2 (1) = 5 → medium
    await publish(c, `devices/${deviceId}/vitals`, { ts: now, seq: 61, hr: 102, rr: 22, spo2: 95, temp: 38.2, sbp: 125, dbp: 80 });
    await eventually(() => a.alerts.find((e: AlertEvent) => e.kind === 'news2' && e.priority === 'medium'), 10_000, 'NEWS2 medium');
    // Then: RR 25 (3) + SpO2 92 (2) + HR 115 (2) + temp 38.6 (1) = 8 → high. NEWS2 scores the
    // median of the last minute of each streamed value, so it takes a few readings, not one.
    for (let i = 0; i < 3; i++) {
      await publish(c, `devices/${deviceId}/vitals`, { ts: Date.now(), seq: 62 + i, hr: 115, rr: 25, spo2: 92, temp: 38.6, sbp: 118, dbp: 76 });
    }

    const news2High = await eventually(() => a.alerts.find((e: AlertEvent) => e.kind === 'news2' && e.priority === 'high'), 10_000, 'NEWS2 high');
    const firstSeen = new Map<string, number>();
    a.alerts.forEach((e: AlertEvent, i: number) => {
      const label = e.kind === 'news2' ? `news2:${e.priority}` : e.kind;
      if (!firstSeen.has(label)) firstSeen.set(label, i);
    });
    expect(firstSeen.get('trend')).toBeLessThan(firstSeen.get('news2:medium')!);
    expect(firstSeen.get('news2:medium')).toBeLessThan(firstSeen.get('news2:high')!);
    const trend = a.alerts.find((e: AlertEvent) => e.kind === 'trend')!;
    expect(trend.message).toMatch(/HR rising|RR rising/);
    expect(news2High.message).toMatch(/emergency response: inform the medical team immediately/);
    expect(news2High.latching).toBe(true);

    // Nobody acknowledges: after ESCALATE_AFTER_S the dashboard hears it and the pager webhook
    // is called, correctly signed, retried after a failure.
    const esc = await eventually(() => a.escalations.find((e) => e.alarm.id === news2High.id), 15_000, 'escalation event');
    expect(esc).toMatchObject({ level: 1, role: 'doctor' });
    await eventually(() => deliveries.length >= 2, 15_000, 'webhook retried and delivered');
    for (const d of deliveries.slice(0, 2)) {
      const ts = d.headers['x-wardpulse-timestamp'] as string;
      expect(verifySignature(SECRET, ts, d.body, d.headers['x-wardpulse-signature'] as string)).toBe(true);
      expect(JSON.parse(d.body)).toMatchObject({ type: 'alarm.escalation', level: 1, role: 'doctor', alarm: { id: news2High.id, priority: 'high' } });
    }
    expect(verifySignature('wrong-secret-000000', deliveries[0]!.headers['x-wardpulse-timestamp'] as string, deliveries[0]!.body, deliveries[0]!.headers['x-wardpulse-signature'] as string)).toBe(false);
    const detail = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts/${news2High.id}`);
      return r.body.notifications?.filter((n: { channel: string }) => n.channel === 'webhook').length >= 2 ? r.body : null;
    }, 10_000, 'attempts recorded');
    expect(detail.notifications.filter((n: { channel: string }) => n.channel === 'webhook').map((n: { ok: boolean; status: number }) => [n.ok, n.status])).toEqual([
      [false, 503],
      [true, 204],
    ]);
  });

  it('acknowledging on one dashboard updates the other; silence and resolve follow the rules; all audited', async () => {
    const { patientId, deviceId, secret } = await stack.provision('AL', '2');
    const tokenA = await nurse('nurse-b@test.local');
    const tokenB = await nurse('nurse-c@test.local');
    const a = await dashboard(tokenA, patientId);
    const b = await dashboard(tokenB, patientId);
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    expect((await stack.api('POST', `/api/patients/${patientId}/observations`, { acvpu: 'A', o2: false }, tokenA)).status).toBe(201);
    // RR 26 (3) + SpO2 91 (3) + HR 95 (1) = 7 → high
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 95, rr: 26, spo2: 91, temp: 37, sbp: 125, dbp: 80 });
    const alarm = await eventually(() => b.alerts.find((e: AlertEvent) => e.kind === 'news2' && e.priority === 'high'), 10_000, 'high alarm');

    // Resolve is refused while the condition holds.
    const early = await a.s.emitWithAck('alarm:resolve', { id: alarm.id });
    expect(early).toMatchObject({ ok: false, error: { code: 'ERR_ILLEGAL_TRANSITION' } });
    expect(early.ok ? '' : early.error.message).toMatch(/condition still present/);

    // Silence over REST, then acknowledge over Socket.IO from dashboard A: B sees both.
    const silenced = await stack.api('POST', `/api/alerts/${alarm.id}/silence`, { comment: 'going to the bedside' }, tokenA);
    expect(silenced).toMatchObject({ status: 200, body: { state: 'silenced' } });
    expect(silenced.body.silencedUntil - Date.now()).toBeGreaterThan(100_000);
    await eventually(() => b.alerts.find((e: AlertEvent) => e.id === alarm.id && e.state === 'silenced'), 5000, 'B sees silenced');
    const acked = await a.s.emitWithAck('alarm:ack', { id: alarm.id, comment: 'seen, doctor called' });
    expect(acked).toMatchObject({ ok: true, data: { state: 'acknowledged' } });
    await eventually(() => b.alerts.find((e: AlertEvent) => e.id === alarm.id && e.state === 'acknowledged'), 5000, 'B sees acknowledged');
    const again = await stack.api('POST', `/api/alerts/${alarm.id}/ack`, {}, tokenB);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION' } } });

    // A display-only account may not act.
    await stack.api('POST', '/api/auth/register', { email: 'kiosk-al@test.local', name: 'Wall', password: 'wall-display-1', role: 'kiosk', wards: ['AL'] });
    const kiosk = await stack.login('kiosk-al@test.local', 'wall-display-1');
    expect((await stack.api('POST', `/api/alerts/${alarm.id}/ack`, {}, kiosk)).status).toBe(403);

    // The condition clears: an acknowledged alarm resolves by itself.
    // (a few readings: the median of the last minute has to come down)
    for (let i = 0; i < 3; i++) await publish(c, `devices/${deviceId}/vitals`, { seq: 2 + i, hr: 72, rr: 14, spo2: 97, temp: 37, sbp: 125, dbp: 80 });
    await eventually(() => b.alerts.find((e: AlertEvent) => e.id === alarm.id && e.state === 'resolved'), 5000, 'resolved');

    const trail = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts/${alarm.id}`);
      return r.body.transitions?.length >= 4 ? r.body.transitions : null;
    }, 5000, 'transitions');
    const me = (await stack.api('GET', '/api/auth/me', undefined, tokenA)).body.user.id;
    expect(trail.map((t: { from: string | null; to: string; by: string | null; comment: string | null }) => [t.from, t.to, t.by === me ? 'nurse A' : t.by, t.comment])).toEqual([
      [null, 'active', null, 'condition met: NEWS2 ≥ 7'],
      ['active', 'silenced', 'nurse A', 'going to the bedside'],
      ['silenced', 'acknowledged', 'nurse A', 'seen, doctor called'],
      ['acknowledged', 'resolved', null, 'condition cleared'],
    ]);
    const history = await stack.api('GET', `/api/alerts?patientId=${patientId}&priority=high&state=resolved`);
    expect(history.body.items.map((x: { id: string }) => x.id)).toContain(alarm.id);
  });

  it('shows a person’s action on the dashboards only once its rows are committed', async () => {
    const { patientId, deviceId, secret } = await stack.provision('AL', '5');
    const token = await nurse('nurse-f@test.local');
    const a = await dashboard(token, patientId);
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    expect((await stack.api('POST', `/api/patients/${patientId}/observations`, { acvpu: 'A', o2: false }, token)).status).toBe(201);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 95, rr: 26, spo2: 91, temp: 37, sbp: 125, dbp: 80 });
    const alarm = await eventually(() => a.alerts.find((e: AlertEvent) => e.kind === 'news2' && e.priority === 'high'), 10_000, 'high alarm');
    const db = stack.server.db.driver;
    const stateOf = async () => (await db.query<{ state: string }>('SELECT state FROM alerts WHERE id = $1', [alarm.id])).rows[0]?.state;
    await eventually(async () => (await stateOf()) === 'active', 5000, 'alarm row stored');
    // What the dashboard can read the moment it hears the acknowledgement.
    let atPush: Promise<string | undefined> | null = null;
    a.s.on('alert', (e: AlertEvent) => {
      if (e.id === alarm.id && e.state === 'acknowledged') atPush ??= stateOf();
    });

    // The alarm rows cannot be written while this transaction holds the table: no push meanwhile.
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = db.transaction(async (tx) => {
      await tx.query('LOCK TABLE alerts IN EXCLUSIVE MODE');
      locked();
      await new Promise<void>((r) => (release = r));
    });
    await isLocked;
    const acked = stack.api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'at the bedside' }, token);
    await new Promise((r) => setTimeout(r, 1500));
    expect(atPush).toBeNull();
    expect(a.alerts.some((e: AlertEvent) => e.id === alarm.id && e.state === 'acknowledged')).toBe(false);
    expect(await stateOf()).toBe('active');

    release();
    await holding;
    expect(await acked).toMatchObject({ status: 200, body: { state: 'acknowledged' } });
    await eventually(() => atPush, 5000, 'the acknowledgement pushed');
    expect(await atPush).toBe('acknowledged');
  });

  it('lets a nurse change a patient’s limits (audited), which the alarms follow at once', async () => {
    const { patientId, deviceId, secret } = await stack.provision('AL', '4');
    const token = await nurse('nurse-e@test.local');
    const bad = await stack.api('PUT', `/api/patients/${patientId}/limits`, { temp: { low: 38, high: 37 } }, token);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
    const defaultsConflict = await stack.api('PUT', `/api/patients/${patientId}/limits`, { temp: { high: 34 } }, token);
    expect(defaultsConflict.body.error.message).toMatch(/low 35 must be below high 34/);
    const set = await stack.api('PUT', `/api/patients/${patientId}/limits`, { temp: { high: 37.5 } }, token);
    expect(set).toMatchObject({ status: 200, body: { alarmLimits: { temp: { high: 37.5 } }, effectiveLimits: { temp: { low: 35, high: 37.5 } } } });
    await stack.api('POST', '/api/auth/register', { email: 'kiosk-l@test.local', name: 'Wall', password: 'wall-display-1', role: 'kiosk', wards: ['AL'] });
    expect((await stack.api('PUT', `/api/patients/${patientId}/limits`, {}, await stack.login('kiosk-l@test.local', 'wall-display-1'))).status).toBe(403);

    const a = await dashboard(token, patientId);
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 72, rr: 14, spo2: 97, temp: 37.8 });
    const alarm = await eventually(() => a.alerts.find((e: AlertEvent) => e.key === 'limit:temp'), 5000, 'temperature limit alarm');
    expect(alarm).toMatchObject({ limit: 37.5, value: 37.8, priority: 'medium' });
    const audit = await stack.api('GET', `/api/audit?patientId=${patientId}`);
    expect(audit.body.items.find((e: { resource: string }) => e.resource === 'alarm-limits')).toMatchObject({ action: 'update', details: { before: {}, after: { temp: { high: 37.5 } } } });
  });

  it('raises a technical alarm when a device goes silent, and clears it when it is back', async () => {
    const { patientId, deviceId, secret } = await stack.provision('AL', '3');
    const token = await nurse('nurse-d@test.local');
    const a = await dashboard(token, patientId);
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 72, rr: 14, spo2: 97 });
    // The device stays connected but sends nothing (a frozen monitor): DEVICE_SILENCE_S = 5.
    const tech = await eventually(() => a.alerts.find((e: AlertEvent) => e.kind === 'device-offline' && e.state === 'active'), 15_000, 'technical alarm');
    expect(tech).toMatchObject({ category: 'technical', priority: 'medium', deviceId });
    expect(tech.message).toMatch(/No signal from/);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 2, hr: 72, rr: 14, spo2: 97 });
    await eventually(() => a.alerts.find((e: AlertEvent) => e.id === tech.id && e.state === 'resolved'), 10_000, 'technical alarm cleared');
  });
});
