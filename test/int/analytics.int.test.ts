// Analytics on each database driver (PGlite + TimescaleDB: time_bucket; plain PostgreSQL:
// date_trunc): alarms, readings and scores seeded in SQL at known instants, answers checked to the
// second — counts, bed-days, median and p90 time to acknowledge, escalations, NEWS2 band time —
// plus the CSV shape, the range checks (400), the nurse's 403 and the list-read audit entry.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import type { Queryable } from '../../db/driver.ts';

const at = (iso: string) => new Date(iso);
const plus = (iso: string, s: number) => new Date(Date.parse(iso) + s * 1000);

describe.each<DbKind>(['pglite', 'postgres'])('analytics on %s', (kind) => {
  let stack: Stack;
  let db: Queryable;
  let nurse: string;
  let doctor: string;
  let p1: string;
  let p2: string;
  let p3: string;

  const user = async (role: string) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role });
    expect(r.status).toBe(201);
    return stack.login(email, 'long-enough-password');
  };
  const alarm = async (patientId: string, startedIso: string, priority: string, kind: string, escalation: number, acksAfter: number[]) => {
    const id = randomUUID();
    const category = kind === 'lead-off' ? 'technical' : 'physiological';
    await db.query(
      `INSERT INTO alerts (id, patient_id, kind, category, priority, state, message, started_at, updated_at, key, rule, escalation_level)
       VALUES ($1, $2, $3, $4, $5, 'active', 'seeded', $6, $6, $7, 'seeded', $8)`,
      [id, patientId, kind, category, priority, at(startedIso), `${kind}:${id}`, escalation],
    );
    await db.query(`INSERT INTO alert_transitions (alert_id, patient_id, from_state, to_state, at) VALUES ($1, $2, NULL, 'active', $3)`, [id, patientId, at(startedIso)]);
    for (const s of acksAfter) {
      await db.query(`INSERT INTO alert_transitions (alert_id, patient_id, from_state, to_state, at) VALUES ($1, $2, 'active', 'acknowledged', $3)`, [id, patientId, plus(startedIso, s)]);
    }
  };
  const reading = (patientId: string, iso: string) => db.query('INSERT INTO vitals (time, patient_id, source, hr) VALUES ($1, $2, $3, 70)', [at(iso), patientId, 'manual']);
  const score = (patientId: string, iso: string, band: string) =>
    db.query(`INSERT INTO scores (time, patient_id, total, band, partial, parameters) VALUES ($1, $2, 0, $3, false, '{}'::jsonb)`, [at(iso), patientId, band]);
  const get = (path: string, token: string | undefined = doctor, accept = 'application/json') =>
    fetch(`${stack.base}${path}`, { headers: { authorization: `Bearer ${token}`, accept } });

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    db = stack.server.db.driver;
    nurse = await user('nurse');
    doctor = await user('doctor');
    p1 = (await stack.provision('W1', '1')).patientId;
    p2 = (await stack.provision('W1', '2')).patientId;
    p3 = (await stack.provision('W2', '1')).patientId;

    // Readings: W1 has P1 and P2 on 10 March (2 bed-days), P1 alone on 11 March; W2 none.
    await reading(p1, '2026-03-10T08:00:00Z');
    await reading(p1, '2026-03-10T09:00:00Z');
    await reading(p2, '2026-03-10T23:59:59Z');
    await reading(p1, '2026-03-11T00:00:00Z');
    await reading(p1, '2026-03-12T00:00:00Z'); // outside the range

    // W1, 10 March: acknowledgement after 30 s and 130 s (high news2), 60 s (medium threshold), never (low lead-off).
    await alarm(p1, '2026-03-10T10:00:00Z', 'high', 'news2', 1, [30]);
    await alarm(p2, '2026-03-10T11:00:00Z', 'high', 'news2', 2, [130, 500]); // the first acknowledgement counts
    await alarm(p1, '2026-03-10T12:00:00Z', 'medium', 'threshold', 0, [60]);
    await alarm(p2, '2026-03-10T23:59:59Z', 'low', 'lead-off', 0, []);
    // W1, 11 March (midnight belongs to the new day): one, acknowledged after 10 s.
    await alarm(p1, '2026-03-11T00:00:00Z', 'medium', 'news2', 0, [10]);
    // W2, 10 March: one alarm, no readings (no bed-days).
    await alarm(p3, '2026-03-10T15:00:00Z', 'high', 'threshold', 3, [45]);
    // Outside the range (to is exclusive).
    await alarm(p1, '2026-03-12T00:00:00Z', 'high', 'news2', 5, [1]);

    // NEWS2 scores for the range 06:00–12:00 on 10 March (hold cap 1 h).
    await score(p1, '2026-03-10T05:30:00Z', 'medium'); // holds until 06:10: 600 s inside the range
    await score(p1, '2026-03-10T06:10:00Z', 'low'); // 600 s
    await score(p1, '2026-03-10T06:20:00Z', 'high'); // next at 08:00: capped at 3600 s
    await score(p1, '2026-03-10T08:00:00Z', 'low'); // no next: 3600 s
    await score(p1, '2026-03-10T11:30:00Z', 'low-medium'); // clipped at 12:00: 1800 s
    await score(p1, '2026-03-10T12:00:00Z', 'high'); // outside
    await score(p2, '2026-03-10T04:00:00Z', 'high'); // more than the cap before the range: nothing
    await score(p2, '2026-03-10T07:00:00Z', 'low'); // 1800 s
    await score(p2, '2026-03-10T07:30:00Z', 'low'); // 3600 s
    await score(p3, '2026-03-10T09:00:00Z', 'medium'); // 3600 s
  });
  afterAll(async () => {
    await stack?.close();
  });

  const RANGE = 'from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z';

  it('runs on the flavour this driver promises: TimescaleDB (time_bucket) embedded, plain PostgreSQL (date_trunc) on the server', () => {
    expect(stack.server.db.caps.timescale).toBe(kind === 'pglite');
  });

  it('counts alarms per ward and day, per bed-day, with the median and p90 time to acknowledge and escalations', async () => {
    const r = await get(`/api/analytics/alarms?${RANGE}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body).toMatchObject({ from: '2026-03-10T00:00:00.000Z', to: '2026-03-12T00:00:00.000Z', ward: null });
    expect(body.days.map((d: any) => [d.ward, d.day])).toEqual([
      ['W1', '2026-03-10'],
      ['W1', '2026-03-11'],
      ['W2', '2026-03-10'],
    ]);
    const [w1d1, w1d2, w2d1] = body.days;
    // acks 30, 60, 130 s: median 60; p90 = 60 + 0.8 × (130 − 60) = 116
    expect(w1d1).toMatchObject({
      alarms: 4, acknowledged: 3, ackMedianSeconds: 60, ackP90Seconds: 116, escalations: 3, bedDays: 2, alarmsPerBedDay: 2,
      byPriority: { high: 2, medium: 1, low: 1 }, byKind: { news2: 2, threshold: 1, 'lead-off': 1 },
    });
    // high news2: acks 30, 130 s: median 80, p90 = 30 + 0.9 × 100 = 120
    expect(w1d1.groups).toContainEqual({ priority: 'high', kind: 'news2', alarms: 2, acknowledged: 2, ackMedianSeconds: 80, ackP90Seconds: 120, escalations: 3 });
    expect(w1d1.groups).toContainEqual({ priority: 'low', kind: 'lead-off', alarms: 1, acknowledged: 0, ackMedianSeconds: null, ackP90Seconds: null, escalations: 0 });
    expect(w1d1.groups).toHaveLength(3);
    expect(w1d2).toMatchObject({ alarms: 1, acknowledged: 1, ackMedianSeconds: 10, ackP90Seconds: 10, escalations: 0, bedDays: 1, alarmsPerBedDay: 1 });
    expect(w2d1).toMatchObject({ alarms: 1, ackMedianSeconds: 45, escalations: 3, bedDays: 0, alarmsPerBedDay: null });
  });

  it('filters by ward, and a ward day with readings but no alarm answers 0 per bed-day', async () => {
    const r = await get('/api/analytics/alarms?from=2026-03-11T00:00:00Z&to=2026-03-13T00:00:00Z&ward=W1');
    const body = (await r.json()) as any;
    expect(body.ward).toBe('W1');
    expect(body.days.map((d: any) => [d.day, d.alarms, d.bedDays, d.alarmsPerBedDay])).toEqual([
      ['2026-03-11', 1, 1, 1],
      ['2026-03-12', 1, 1, 1],
    ]);
    const quiet = await get('/api/analytics/alarms?from=2026-03-12T00:00:01Z&to=2026-03-13T00:00:00Z&ward=W1');
    expect(((await quiet.json()) as any).days).toEqual([]);
  });

  it('answers CSV with Accept: text/csv — a header, one row per ward/day/priority/kind and a day total', async () => {
    const r = await get(`/api/analytics/alarms?${RANGE}&ward=W1`, doctor, 'text/csv');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await r.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('ward,day,priority,kind,alarms,acknowledged,ack_median_s,ack_p90_s,escalations,bed_days,alarms_per_bed_day');
    expect(lines).toContain('W1,2026-03-10,high,news2,2,2,80,120,3,2,1');
    expect(lines).toContain('W1,2026-03-10,low,lead-off,1,0,,,0,2,0.5');
    expect(lines).toContain('W1,2026-03-10,*,*,4,3,60,116,3,2,2');
    expect(lines).toContain('W1,2026-03-11,*,*,1,1,10,10,0,1,1');
    expect(lines).toHaveLength(1 + 3 + 1 + 1 + 1);
  });

  it('sums the time in each NEWS2 band per ward from consecutive scores, capped at 1 h and clipped to the range', async () => {
    const r = await get('/api/analytics/news2?from=2026-03-10T06:00:00Z&to=2026-03-10T12:00:00Z');
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body.holdCapSeconds).toBe(3600);
    const byKey = Object.fromEntries(body.bands.map((b: any) => [`${b.ward}/${b.band}`, [b.seconds, b.patients]]));
    expect(byKey).toEqual({
      'W1/medium': [600, 1],
      'W1/low': [600 + 3600 + 1800 + 3600, 2],
      'W1/high': [3600, 1],
      'W1/low-medium': [1800, 1],
      'W2/medium': [3600, 1],
    });
    const csv = await get('/api/analytics/news2?from=2026-03-10T06:00:00Z&to=2026-03-10T12:00:00Z&ward=W2', doctor, 'text/csv');
    expect((await csv.text()).split('\r\n')).toEqual(['ward,band,seconds,patients', 'W2,medium,3600,1', '']);
  });

  it('counts appointments per doctor and day (no-shows: booked, past, never seen) and revenue per day and method', async () => {
    const docA = randomUUID();
    const docB = randomUUID();
    await db.query(`INSERT INTO doctors (id, name) VALUES ($1, 'Dr A'), ($2, 'Dr B')`, [docA, docB]);
    const appt = async (doctorId: string, date: string, time: string, token: number, status: string) => {
      const id = randomUUID();
      await db.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number, status) VALUES ($1, $2, $3, $4, $5, $6, $7)', [id, p1, doctorId, date, time, token, status]);
      return id;
    };
    const a1 = await appt(docA, '2026-03-10', '09:00', 1, 'completed');
    await appt(docA, '2026-03-10', '09:15', 2, 'completed');
    await appt(docA, '2026-03-10', '09:30', 3, 'cancelled');
    await appt(docA, '2026-03-10', '09:45', 4, 'confirmed'); // past and never seen: a no-show
    await appt(docA, '2026-03-10', '10:00', 5, 'pending'); // likewise
    await appt(docA, '2026-03-11', '09:00', 1, 'completed');
    const b1 = await appt(docB, '2026-03-10', '23:45', 1, 'completed');
    await appt(docB, '2026-03-12', '00:00', 1, 'completed'); // outside (to is exclusive)
    const billFor = async (appointmentId: string | null, currency = 'EUR') => {
      const id = randomUUID();
      await db.query(`INSERT INTO bills (id, patient_id, subtotal, tax, discount, total, paid, currency, status, appointment_id) VALUES ($1, $2, 10000, 0, 0, 10000, 0, $3, 'unpaid', $4)`, [id, p1, currency, appointmentId]);
      return id;
    };
    const pay = (billId: string, amount: number, method: string, iso: string) =>
      db.query('INSERT INTO payments (id, bill_id, amount, method, idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [randomUUID(), billId, amount, method, randomUUID(), at(iso)]);
    const billA = await billFor(a1);
    const billB = await billFor(b1);
    const walkIn = await billFor(null);
    await pay(billA, 3000, 'cash', '2026-03-10T09:10:00Z');
    await pay(billA, 2000, 'card', '2026-03-10T09:11:00Z');
    await pay(billB, 4500, 'cash', '2026-03-10T23:59:59Z');
    await pay(walkIn, 1250, 'online', '2026-03-11T00:00:00Z');
    await pay(walkIn, 99, 'cash', '2026-03-12T00:00:00Z'); // outside

    const r = await get(`/api/analytics/clinic?${RANGE}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body.appointments).toEqual([
      { doctorId: docA, doctor: 'Dr A', day: '2026-03-10', appointments: 5, pending: 1, confirmed: 1, completed: 2, cancelled: 1, noShows: 2 },
      { doctorId: docA, doctor: 'Dr A', day: '2026-03-11', appointments: 1, pending: 0, confirmed: 0, completed: 1, cancelled: 0, noShows: 0 },
      { doctorId: docB, doctor: 'Dr B', day: '2026-03-10', appointments: 1, pending: 0, confirmed: 0, completed: 1, cancelled: 0, noShows: 0 },
    ]);
    expect(body.revenue).toEqual([
      { day: '2026-03-10', method: 'card', currency: 'EUR', payments: 1, amount: 2000 },
      { day: '2026-03-10', method: 'cash', currency: 'EUR', payments: 2, amount: 7500 },
      { day: '2026-03-11', method: 'online', currency: 'EUR', payments: 1, amount: 1250 },
    ]);
    // one doctor: only the payments of bills for that doctor's appointments
    const onlyB = (await (await get(`/api/analytics/clinic?${RANGE}&doctorId=${docB}`)).json()) as any;
    expect(onlyB.appointments.map((a: any) => a.doctor)).toEqual(['Dr B']);
    expect(onlyB.revenue).toEqual([{ day: '2026-03-10', method: 'cash', currency: 'EUR', payments: 1, amount: 4500 }]);
    const csv = (await (await get(`/api/analytics/clinic?${RANGE}&doctorId=${docB}`, doctor, 'text/csv')).text()).split('\r\n');
    expect(csv).toEqual([
      'row,day,doctor_id,doctor,appointments,pending,confirmed,completed,cancelled,no_shows,method,currency,payments,amount',
      `appointments,2026-03-10,${docB},Dr B,1,0,0,1,0,0,,,,`,
      'revenue,2026-03-10,,,,,,,,,cash,EUR,1,4500',
      '',
    ]);
    expect((await get(`/api/analytics/clinic?${RANGE}&doctorId=nope`)).status).toBe(400);
  });

  it('measures each device’s completeness at its rate and its offline time', async () => {
    const dev = async (id: string, patientId: string | null, createdIso: string) =>
      db.query(`INSERT INTO devices (id, label, secret_hash, patient_id, created_at) VALUES ($1, $1, 'x', $2, $3)`, [id, patientId, at(createdIso)]);
    await dev('an-d1', p1, '2026-01-01T00:00:00Z');
    await dev('an-d2', p3, '2026-01-01T00:00:00Z');
    await dev('an-d3', null, '2026-03-10T10:05:00Z'); // created mid-range: expected only from then
    const series = (deviceId: string, fromIso: string, toIso: string) =>
      db.query(`INSERT INTO vitals (time, patient_id, device_id, hr) SELECT t, $2, $1, 70 FROM generate_series($3::timestamptz, $4::timestamptz, INTERVAL '1 second') t`, [deviceId, p1, fromIso, toIso]);
    // 100 readings 10:00:00–10:01:39, silence of 201 s, 60 readings 10:05:00–10:05:59, silence of 241 s to 10:10.
    await series('an-d1', '2026-03-10T10:00:00Z', '2026-03-10T10:01:39Z');
    await series('an-d1', '2026-03-10T10:05:00Z', '2026-03-10T10:05:59Z');
    await series('an-d1', '2026-03-10T10:10:00Z', '2026-03-10T10:10:05Z'); // outside

    const q = 'from=2026-03-10T10:00:00Z&to=2026-03-10T10:10:00Z';
    const r = await get(`/api/analytics/devices?${q}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as any;
    expect(body).toMatchObject({ intervalSeconds: 1, silenceSeconds: 30 });
    const of = (b: any) => Object.fromEntries(b.devices.filter((d: any) => d.deviceId.startsWith('an-')).map((d: any) => [d.deviceId, d]));
    expect(of(body)).toEqual({
      'an-d1': { deviceId: 'an-d1', label: 'an-d1', ward: 'W1', windowSeconds: 600, readings: 160, expected: 600, completeness: 0.2667, offlineSeconds: 442 },
      'an-d2': { deviceId: 'an-d2', label: 'an-d2', ward: 'W2', windowSeconds: 600, readings: 0, expected: 600, completeness: 0, offlineSeconds: 600 },
      'an-d3': { deviceId: 'an-d3', label: 'an-d3', ward: null, windowSeconds: 300, readings: 0, expected: 300, completeness: 0, offlineSeconds: 300 },
    });
    // at one reading per 2 s, and with silences of 250 s allowed
    const slow = of((await (await get(`/api/analytics/devices?${q}&intervalSeconds=2&silenceSeconds=250&ward=W1`)).json()) as any);
    expect(Object.keys(slow)).toEqual(['an-d1']);
    expect(slow['an-d1']).toMatchObject({ expected: 300, completeness: 0.5333, offlineSeconds: 0 });
    const csv = (await (await get(`/api/analytics/devices?${q}&ward=W2`, doctor, 'text/csv')).text()).split('\r\n');
    expect(csv[0]).toBe('device_id,label,ward,window_s,readings,expected,completeness,offline_s');
    expect(csv).toContain('an-d2,an-d2,W2,600,0,600,0,600');
    expect((await get(`/api/analytics/devices?${q}&intervalSeconds=0`)).status).toBe(400);
  });

  it('refuses a bad range with a precise 400', async () => {
    const cases: [string, string][] = [
      ['from=2026-03-10T00:00:00Z&to=2026-03-10T00:00:00Z', 'query.to: must be after from'],
      ['from=2026-03-11T00:00:00Z&to=2026-03-10T00:00:00Z', 'query.to: must be after from'],
      ['from=2026-01-01T00:00:00Z&to=2026-04-03T00:00:01Z', 'query.to: must be at most 92 days after from'],
      ['to=2026-03-10T00:00:00Z', 'query.from:'],
      ['from=yesterday&to=2026-03-10T00:00:00Z', 'query.from: must be epoch milliseconds or ISO 8601'],
      [`${RANGE}&patientId=x`, 'query:'],
    ];
    for (const [q, message] of cases) {
      for (const path of ['/api/analytics/alarms', '/api/analytics/news2', '/api/analytics/clinic', '/api/analytics/devices']) {
        const r = await get(`${path}?${q}`);
        expect(r.status, `${path}?${q}`).toBe(400);
        const body = (await r.json()) as any;
        expect(body.error.code).toBe('ERR_VALIDATION');
        expect(body.error.message).toContain(message);
      }
    }
    // exactly 92 days is allowed
    expect((await get('/api/analytics/alarms?from=2026-01-01T00:00:00Z&to=2026-04-03T00:00:00Z')).status).toBe(200);
  });

  it('is refused to a nurse (403) and audited as a list read without a patient', async () => {
    const r = await get(`/api/analytics/alarms?${RANGE}`, nurse);
    expect(r.status).toBe(403);
    expect((await get(`/api/analytics/news2?${RANGE}`, nurse)).status).toBe(403);
    expect((await get(`/api/analytics/clinic?${RANGE}`, nurse)).status).toBe(403);
    expect((await get(`/api/analytics/devices?${RANGE}`, nurse)).status).toBe(403);
    expect((await get(`/api/analytics/news2?${RANGE}`, stack.adminToken)).status).toBe(200);
    const { rows } = await db.query<{ action: string; resource: string; patient_id: string | null; actor_role: string }>(
      `SELECT action, resource, patient_id, actor_role FROM audit_log WHERE resource LIKE 'analytics-%'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => x.action === 'list' && x.patient_id === null)).toBe(true);
    expect(rows.some((x) => x.resource === 'analytics-news2' && x.actor_role === 'admin')).toBe(true);
  });
});
