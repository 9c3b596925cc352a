// The notifications outbox's claim on PostgreSQL (two senders at once, a crashed sender's lease, a
// late outcome), and on PGlite the on-call mails (escalated alarms, critical lab results) and a
// patient's booking mail, through a real SMTP server (test/helpers/smtp.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { connectDevice, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { createDb, type Database } from '../../db/index.ts';
import { claimDue, enqueueForStaff, markFailed } from '../../server/notify/outbox.store.ts';
import { addDays, localNow } from '../../server/records/appointments.ts';

const ALL_DAY = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '00:00', endTime: '23:45' }));
const PASSWORD = 'a-long-test-password';

describe('the outbox claim on PostgreSQL: two senders, a crashed sender', () => {
  let database: { url: string; drop(): Promise<void> };
  let a: Database;
  let b: Database;
  const log = pino({ level: 'silent' });
  beforeAll(async () => {
    database = await createTestDatabase(inject('pgUrl'));
    const opts = { databaseUrl: database.url, dataDir: '/nonexistent', compressAfter: 'off', retainFor: 'off' };
    a = await createDb(opts, log);
    b = await createDb(opts, log); // a second node: its own pool on the same database
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  const insert = async (n: number) => {
    for (let i = 0; i < n; i++) await enqueueForStaff(a.driver, { kind: 'alarm-escalated', recipient: `x${i}@x.org`, message: { subject: 's', body: 'b' }, alertId: null, patientId: null, dedupeKey: `claim-test:${randomUUID()}` });
  };

  it('two senders claiming at once never get the same row', async () => {
    await insert(40);
    const claims = await Promise.all([claimDue(a.driver, 25, 60_000), claimDue(b.driver, 25, 60_000), claimDue(a.driver, 25, 60_000), claimDue(b.driver, 25, 60_000)]);
    const ids = claims.flat().map((n) => n.id);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(claims.flat().every((n) => n.status === 'sending' && n.attempts === 1)).toBe(true);
    // All held: nothing more to claim.
    expect(await claimDue(b.driver, 100, 60_000)).toEqual([]);
  });

  it("a row left 'sending' by a crashed sender is claimed again once its lease ran out, and only by one", async () => {
    await a.driver.query("UPDATE notifications SET status = 'sent' WHERE status = 'sending'");
    await insert(1);
    const [first] = await claimDue(a.driver, 10, 300); // this sender "crashes" holding it
    expect(first).toBeDefined();
    expect(await claimDue(b.driver, 10, 300)).toEqual([]); // leased
    await new Promise((r) => setTimeout(r, 400));
    const again = await Promise.all([claimDue(a.driver, 10, 60_000), claimDue(b.driver, 10, 60_000)]);
    expect(again.flat().map((n) => n.id)).toEqual([first!.id]);
    expect(again.flat()[0]!.attempts).toBe(2);
    // The crashed sender's late outcome does not overwrite the new claim's (matched by attempt).
    await markFailed(a.driver, first!, 'late', 1000);
    const { rows } = await a.driver.query<{ status: string }>('SELECT status FROM notifications WHERE id = $1', [first!.id]);
    expect(rows[0]!.status).toBe('sending');
  });
});

describe('on PGlite: escalated alarms and critical lab results mail the on-call doctors; a booking mails the patient', () => {
  let stack: Stack;
  let smtp: TestSmtp;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    smtp = await startSmtp();
    stack = await startStack('pglite', undefined, {
      SMTP_URL: smtp.url,
      MAIL_FROM: 'noreply@hospital.test',
      ONCALL_EMAILS: 'doctor:oncall-a@hospital.test,oncall-b@hospital.test;nurse:ward-cs@hospital.test',
      NOTIFY_POLL_MS: '100',
      ESCALATE_MEDIUM_AFTER_S: '5',
    });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
    await smtp?.stop();
  });

  it('mails each on-call address of the escalation’s role once, with ward, bed and alarm, not the name', async () => {
    expect((await stack.api('POST', '/api/auth/register', { email: 'nurse-n@test.local', name: 'Nell', password: PASSWORD, role: 'nurse' })).status).toBe(201);
    const nurse = await stack.login('nurse-n@test.local', PASSWORD);
    const p = await stack.api('POST', '/api/patients', { name: 'Zed Zebra', ward: 'CS', bed: '2' });
    const d = await stack.api('POST', '/api/devices', { patientId: p.body.id });
    const c = await connectDevice(stack.mqttTcp, d.body.id, d.body.secret);
    clients.push(c);
    for (let seq = 1; seq <= 2; seq++) await publish(c, `devices/${d.body.id}/vitals`, { seq, hr: 72, rr: 15, spo2: 97, temp: 37, sbp: 125, dbp: 80 });
    // Responds to voice only (3): a medium alarm, escalated to the doctor after ESCALATE_MEDIUM_AFTER_S.
    expect((await stack.api('POST', `/api/patients/${p.body.id}/observations`, { acvpu: 'V', o2: false }, nurse)).status).toBe(201);
    const toA = await eventually(() => smtp.mails.find((m) => m.headers.to === 'oncall-a@hospital.test'), 20_000, 'the on-call mail');
    await eventually(() => smtp.mails.find((m) => m.headers.to === 'oncall-b@hospital.test'), 5000, 'the second on-call mail');
    expect(toA.headers.subject).toBe('[MEDIUM] Alarm escalated (level 1) — CS, bed 2');
    expect(toA.body).toContain('escalated to the doctor on call');
    expect(toA.body).not.toContain('Zed Zebra');
    expect(smtp.mails.filter((m) => m.headers.to === 'oncall-a@hospital.test')).toHaveLength(1);
    const rows = (await stack.api('GET', '/api/notifications?kind=alarm-escalated')).body.items;
    expect(rows.filter((n: any) => n.recipient === 'oncall-a@hospital.test')).toMatchObject([{ status: 'sent', patientId: p.body.id, alertId: expect.any(String) }]);
  });

  it('a critical lab result mails the on-call doctors at once, with the values and the bed', async () => {
    const token = async (role: string) => {
      const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
      expect((await stack.api('POST', '/api/auth/register', { email, name: role, password: PASSWORD, role })).status).toBe(201);
      return stack.login(email, PASSWORD);
    };
    const [doctor, lab] = [await token('doctor'), await token('lab')];
    const p = await stack.api('POST', '/api/patients', { name: 'Kim Kalium', ward: 'CS', bed: '7' });
    const test = await stack.api('POST', '/api/lab-tests', { code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 }, lab);
    const order = await stack.api('POST', '/api/lab-orders', { patientId: p.body.id, tests: [test.body.id], priority: 'urgent' }, doctor);
    expect((await stack.api('PUT', `/api/lab-orders/${order.body.id}/collect`, undefined, lab)).status).toBe(200);
    expect((await stack.api('PUT', `/api/lab-orders/${order.body.id}/results`, { results: [{ testId: test.body.id, value: 6.9 }] }, lab)).status).toBe(200);
    const critical = (to: string) => smtp.mails.filter((m) => m.headers.to === to && /^\[CRITICAL\]/.test(m.headers.subject ?? ''));
    const mail = await eventually(() => critical('oncall-b@hospital.test')[0], 10_000, 'the critical result mail');
    expect(mail.headers.subject).toBe('[CRITICAL] Lab result — CS, bed 7');
    expect(mail.body).toContain(`Lab order: ${order.body.id}\n- Potassium: 6.9 mmol/L (HH; critical above 6.5)`);
    expect(mail.body).not.toContain('Kim Kalium');
    await eventually(() => critical('oncall-a@hospital.test')[0], 5000, 'the second address');
    expect(critical('ward-cs@hospital.test')).toEqual([]); // the nurses' address is for escalations to nurses
  });

  it('sends a booking mail on PGlite too', async () => {
    const d = await stack.api('POST', '/api/doctors', { name: 'Dr Who', room: '1', slotMinutes: 15 });
    await stack.api('PUT', `/api/doctors/${d.body.id}/schedule`, { shifts: ALL_DAY, leave: [] });
    const p = await stack.api('POST', '/api/patients', { name: 'Pam Lite', email: 'pam@example.org' });
    const date = addDays(localNow().date, 4);
    expect((await stack.api('POST', '/api/appointments', { patientId: p.body.id, doctorId: d.body.id, date, time: '10:00' })).status).toBe(201);
    const mail = await eventually(() => smtp.mails.find((m) => m.headers.to === 'pam@example.org'), 10_000, 'the booking mail');
    expect(mail.headers.subject).toBe(`Appointment booked: Dr Who, ${date} at 10:00`);
  });
});
