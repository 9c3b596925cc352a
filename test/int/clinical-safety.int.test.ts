// Drivers: the alarm rules run in memory, so the first block runs on PGlite only; the restart block, which reads alarms and values back from the database, runs on both.
// Clinical safety of the alarm path, end to end through the real server: MQTT devices, a nurse
// over REST, dashboards over Socket.IO, the embedded PGlite-TimescaleDB (restart: both drivers).
// Each case names the rule it proves (docs/alarms.md; issue "Clinical safety of the alarm path").
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { collect, connectDevice, connectSocket, eventually, publish, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';
import type { AlertEvent, EscalationEvent, ScoreEvent, SubscribeResult } from '../../server/domain/events.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NORMAL = { hr: 72, rr: 15, spo2: 97, temp: 37, sbp: 125, dbp: 80 };
const ASSESSED = { acvpu: 'A', o2: false };

describe('clinical safety of the alarm path', () => {
  let stack: Stack;
  let nurse = '';
  let seq = 0;
  const clients: MqttClient[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    stack = await startStack('pglite', undefined, { ESCALATE_MEDIUM_AFTER_S: '5', FRESHNESS_DEVICE_S: '5' });
    expect((await stack.api('POST', '/api/auth/register', { email: 'nurse-cs@test.local', name: 'Nell', password: 'nurse-password-1', role: 'nurse' })).status).toBe(201);
    nurse = await stack.login('nurse-cs@test.local', 'nurse-password-1');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const s of sockets) s.close();
    await stack?.close();
  });

  async function bed(bedNo: string, patient: Record<string, unknown> = {}) {
    const p = await stack.api('POST', '/api/patients', { name: `Patient ${bedNo}`, ward: 'CS', bed: bedNo, ...patient });
    expect(p.status).toBe(201);
    const d = await stack.api('POST', '/api/devices', { patientId: p.body.id });
    const c = await connectDevice(stack.mqttTcp, d.body.id, d.body.secret);
    clients.push(c);
    const s = await connectSocket(stack.base, nurse);
    sockets.push(s);
    const alerts = collect(s, 'alert');
    const scores = collect(s, 'score');
    const escalations = collect(s, 'escalation');
    const sub = await s.emitWithAck('subscribe', { patientId: p.body.id });
    expect(sub.ok).toBe(true);
    const send = async (values: Record<string, unknown>, times = 1) => {
      for (let i = 0; i < times; i++) await publish(c, `devices/${d.body.id}/vitals`, { seq: ++seq, ...values });
    };
    const observe = async (values: Record<string, unknown>) => {
      const r = await stack.api('POST', `/api/patients/${p.body.id}/observations`, values, nurse);
      expect(r.status).toBe(201);
      return r.body;
    };
    return { patientId: p.body.id as string, deviceId: d.body.id as string, c, s, alerts, scores, escalations, send, observe, snapshot: (sub as { data: SubscribeResult }).data };
  }

  const news2Alarm = (alerts: AlertEvent[], priority?: string) => alerts.filter((a) => a.kind === 'news2' && (!priority || a.priority === priority)).at(-1);

  it('1. a worse condition re-alarms an acknowledged alarm; a NEWS2 rise of 2 within the band is news', async () => {
    const b = await bed('1');
    await b.observe(ASSESSED);
    // RR 22 (2) + SpO2 95 (1) + HR 95 (1) + temp 38.2 (1) = 5: medium.
    await b.send({ ...NORMAL, rr: 22, spo2: 95, hr: 95, temp: 38.2 }, 3);
    const medium = await eventually(() => news2Alarm(b.alerts, 'medium'), 10_000, 'NEWS2 medium');
    expect((await stack.api('POST', `/api/alerts/${medium.id}/ack`, { comment: 'seen' }, nurse)).body.state).toBe('acknowledged');
    // RR 26 (3) + SpO2 92 (2) + HR 115 (2) + temp 38.6 (1) = 8: high. The acknowledgement covered 5, not 8.
    await b.send({ ...NORMAL, rr: 26, spo2: 92, hr: 115, temp: 38.6 }, 6);
    const back = await eventually(() => b.alerts.find((a) => a.id === medium.id && a.priority === 'high' && a.state === 'active'), 10_000, 're-alarmed');
    expect(back).toMatchObject({ acknowledgedBy: null, escalationLevel: 0 });
    const trail = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts/${medium.id}`);
      return r.body.transitions?.some((t: { comment: string }) => t.comment === 'priority rose: medium → high') ? r.body.transitions : null;
    }, 5000, 'trail');
    expect(trail.map((t: { from: string; to: string }) => `${t.from}→${t.to}`)).toEqual(['null→active', 'active→acknowledged', 'acknowledged→active']);

    // Acknowledged at 8; RR 26 (3) + SpO2 91 (3) + HR 135 (3) + temp 38.6 (1) = 10: same band, 2 more.
    await stack.api('POST', `/api/alerts/${medium.id}/ack`, {}, nurse);
    await b.send({ ...NORMAL, rr: 26, spo2: 91, hr: 135, temp: 38.6 }, 12);
    const news = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts/${medium.id}`);
      return r.body.transitions?.find((t: { comment: string }) => /^NEWS2 rose 8 → 1\d since acknowledged$/.test(t.comment));
    }, 10_000, 'news of the rise');
    expect(news).toMatchObject({ from: 'acknowledged', to: 'acknowledged', by: null });
    expect(b.alerts.filter((a) => a.id === medium.id).at(-1)).toMatchObject({ state: 'acknowledged' });
  });

  it('2. a single parameter scoring 3 raises a medium alarm, and an unacknowledged medium alarm escalates', async () => {
    const b = await bed('2');
    await b.send(NORMAL, 2);
    await b.observe({ acvpu: 'V', o2: false }); // responds to voice only: 3
    const alarm = await eventually(() => news2Alarm(b.alerts, 'medium'), 10_000, 'single-3 alarm');
    expect(alarm).toMatchObject({ limit: 3, rule: 'a single NEWS2 parameter scores 3' });
    const esc = await eventually(() => b.escalations.find((e: EscalationEvent) => e.alarm.id === alarm.id), 10_000, 'medium escalation');
    expect(esc).toMatchObject({ level: 1, role: 'doctor', alarm: { priority: 'medium' } });
  });

  it('3–4. consciousness and oxygen are never defaulted; a nurse\'s assessment wins; a partial score is observed hourly', async () => {
    const b = await bed('3');
    await b.send(NORMAL, 2);
    const partial = await eventually(() => b.scores.find((s: ScoreEvent) => s.patientId === b.patientId), 5000, 'score');
    expect(partial.news2).toMatchObject({ total: 0, partial: true, missing: ['o2', 'acvpu'], parameters: { o2: null, acvpu: null } });
    // A partial 0 is never the 12-hourly of a full 0: any missing parameter may score 3.
    expect(partial.observations).toMatchObject({ interval: 3600_000 });
    const live = await stack.api('GET', `/api/patients/${b.patientId}/score`);
    expect(live.body.news2.missing).toEqual(['o2', 'acvpu']);

    // The device reports "alert, on air"; the nurse finds the patient newly confused.
    await b.send({ ...NORMAL, acvpu: 'A', o2: false });
    await b.observe({ acvpu: 'C' });
    await b.send({ ...NORMAL, acvpu: 'A', o2: false }, 2); // newer device values do not override her
    await eventually(async () => (await stack.api('GET', `/api/patients/${b.patientId}/score`)).body.news2.parameters.acvpu === 3, 5000, 'manual C wins');
    const s = (await stack.api('GET', `/api/patients/${b.patientId}/score`)).body;
    expect(s.news2).toMatchObject({ partial: false, band: 'low-medium', parameters: { acvpu: 3, o2: 0 } });
  });

  it('5. age counts from receipt: a device clock running fast keeps nothing fresh; a score with every input stale says so', async () => {
    const b = await bed('5');
    const ts = Date.now() + 4 * 60_000;
    await publish(b.c, `devices/${b.deviceId}/vitals`, { ts, seq: ++seq, hr: 72, spo2: 97, rr: 15 });
    const first = await eventually(async () => {
      const r = await stack.api('GET', `/api/patients/${b.patientId}/score`);
      return r.status === 200 ? r.body : null;
    }, 5000, 'score');
    expect(first.stale).toBe(false);
    expect(first.freshUntil).toBeLessThan(Date.now() + 6_000); // 5 s from receipt, not from the device's ts
    await sleep(6_000);
    const later = (await stack.api('GET', `/api/patients/${b.patientId}/score`)).body;
    expect(later).toMatchObject({ stale: true });
    expect(later.ageMs).toBeGreaterThan(5_000);
  });

  it('6. one artefact does not drive NEWS2', async () => {
    const b = await bed('6');
    await b.observe(ASSESSED);
    await b.send(NORMAL, 20);
    // A motion artefact: one reading far off.
    await b.send({ ...NORMAL, rr: 40, spo2: 70, hr: 170 });
    await b.send(NORMAL, 3);
    await sleep(2_500);
    expect(b.alerts.filter((a) => a.kind === 'news2')).toEqual([]);
    const s = (await stack.api('GET', `/api/patients/${b.patientId}/score`)).body;
    expect(s.news2).toMatchObject({ total: 0, partial: false });
  });

  it('10. only a full set of observations restarts the due timer', async () => {
    const b = await bed('10');
    await b.send(NORMAL);
    const full = await b.observe({ ...NORMAL, ...ASSESSED });
    const afterFull = await eventually(() => b.scores.filter((s: ScoreEvent) => s.lastFullSetAt === Date.parse(full.ts)).at(-1), 5000, 'timer restarted');
    expect(afterFull.observations).toMatchObject({ dueAt: Date.parse(full.ts) + 12 * 3600_000, interval: 12 * 3600_000 });
    await sleep(20);
    await b.observe({ temp: 37.1 }); // a partial set
    await sleep(1_500);
    const last = (await stack.api('GET', `/api/patients/${b.patientId}/score`)).body;
    expect(last.lastFullSetAt).toBe(Date.parse(full.ts));
  });

  it('11. SpO2 0 is "no signal", not a score; HR 0 stays a high-priority physiological alarm; scale 2 limits', async () => {
    const b = await bed('11');
    await b.observe(ASSESSED);
    const since = Date.now();
    await b.send({ ...NORMAL, spo2: 0 }, 2);
    const tech = await eventually(() => b.alerts.find((a) => a.key === `sensor-off:${b.deviceId}:spo2`), 5000, 'no SpO2 signal');
    expect(tech).toMatchObject({ category: 'technical', priority: 'medium' });
    expect(tech.message).toMatch(/No SpO2 signal/);
    const rows = await eventually(async () => {
      const r = await stack.api('GET', `/api/patients/${b.patientId}/vitals?from=${since - 1000}&to=${Date.now() + 1000}`);
      return r.body.items?.filter((i: { source: string }) => i.source === 'device').length >= 2 ? r.body.items : null;
    }, 5000, 'rows');
    expect(rows.filter((i: { source: string }) => i.source === 'device').every((i: { values: Record<string, number> }) => i.values.spo2 === undefined)).toBe(true);
    expect(b.alerts.some((a) => a.key === 'limit:spo2' || a.kind === 'news2')).toBe(false);

    // Possible asystole: HR 0 held past the 10 s alarm condition delay.
    for (let i = 0; i < 12; i++) {
      await b.send({ ...NORMAL, hr: 0 });
      await sleep(1000);
    }
    const asystole = await eventually(() => b.alerts.find((a) => a.key === 'limit:hr'), 5000, 'HR 0 alarm');
    expect(asystole).toMatchObject({ priority: 'high', category: 'physiological', value: 0 });

    const scale2 = await stack.api('POST', '/api/patients', { name: 'COPD', ward: 'CS', bed: '12', spo2Scale: 2 });
    expect(scale2.status).toBe(201);
    const read = await stack.api('GET', `/api/patients/${scale2.body.id}`);
    expect(read.body.effectiveLimits.spo2).toEqual({ low: 88 });
  }, 40_000);
});

describe.each(['pglite', 'postgres'] as const)('a restart forgets nothing clinical (%s)', (kind) => {
  let stack: Stack;
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
  });

  it('restores latest values, the last full set, open alarms and pending alarm delays', async () => {
    stack = await startStack(kind, kind === 'postgres' ? inject('pgUrl') : undefined);
    await stack.api('POST', '/api/auth/register', { email: 'nurse-rs@test.local', name: 'Rae', password: 'nurse-password-1', role: 'nurse' });
    const nurse = await stack.login('nurse-rs@test.local', 'nurse-password-1');
    const { patientId, deviceId, secret } = await stack.provision('RS', '1');
    let c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    let seq = 0;
    // A full set by the nurse, the patient newly confused: NEWS2 single 3, a medium alarm.
    const full = await stack.api('POST', `/api/patients/${patientId}/observations`, { ...NORMAL, acvpu: 'C', o2: false }, nurse);
    expect(full.status).toBe(201);
    // HR 130 from now on: the limit alarm's 10 s delay starts (pending).
    const pendingFrom = Date.now();
    for (let i = 0; i < 5; i++) {
      await publish(c, `devices/${deviceId}/vitals`, { seq: ++seq, ...NORMAL, hr: 130 });
      await sleep(1000);
    }
    const before = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts?patientId=${patientId}&state=open`);
      return r.body.items?.find((a: AlertEvent) => a.kind === 'news2');
    }, 5000, 'news2 alarm stored');
    expect(before.priority).toBe('medium');

    await stack.restart();
    const restartedAt = Date.now();
    c.end(true);
    c = await connectDevice(stack.mqttTcp, deviceId, secret);
    clients.push(c);
    const s = await connectSocket(stack.base, nurse);
    const alerts = collect(s, 'alert');
    const sub = await s.emitWithAck('subscribe', { patientId });
    expect(sub.ok).toBe(true);
    const snap = (sub as { data: SubscribeResult }).data.patients[0]!;
    // The nurse's assessment survived: no "Air A" default, no partial score.
    expect(snap.values.acvpu).toMatchObject({ value: 'C', source: 'manual' });
    expect(snap.alerts.map((a) => a.id)).toContain(before.id);
    const score = await eventually(async () => {
      const r = await stack.api('GET', `/api/patients/${patientId}/score`);
      return r.status === 200 && r.body.news2 ? r.body : null;
    }, 5000, 'score after restart');
    expect(score.news2.parameters.acvpu).toBe(3);
    expect(score.lastFullSetAt).toBe(Date.parse(full.body.ts));

    // The HR delay continues from where it was: the limit alarm fires once 10 s have passed since
    // the condition began before the restart, not 10 s after the first reading of the new process.
    // (If the restart itself took longer than the rest of the delay, it has fired already: in the snapshot.)
    const resumedAt = Date.now();
    let hrAlarm: AlertEvent | undefined = snap.alerts.find((a) => a.key === 'limit:hr');
    while (!hrAlarm && Date.now() - resumedAt < 15_000) {
      await publish(c, `devices/${deviceId}/vitals`, { seq: ++seq, ...NORMAL, hr: 130 });
      await sleep(500);
      hrAlarm = alerts.find((a) => a.key === 'limit:hr');
    }
    expect(hrAlarm).toBeDefined();
    expect(hrAlarm!.ts - pendingFrom).toBeGreaterThanOrEqual(10_000);
    // Had the delay restarted with the new process, the alarm could not fire before restart + 10 s.
    expect(hrAlarm!.ts - restartedAt).toBeLessThan(7_000); // pending since ≥ 5 s before the restart: fires ≤ 5 s (+ a tick) after
    s.close();
  }, 60_000);
});
