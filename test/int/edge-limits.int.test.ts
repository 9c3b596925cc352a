// Limits a client cannot talk its way past (issue 11, findings 6 and 9): X-Forwarded-For is
// believed only from the proxies TRUST_PROXY names; self-registrations per source address; a
// patient account's appointments with one doctor on one day. Drivers: the default block runs on
// both (the daily cap is a query inside the booking transaction); the TRUST_PROXY blocks on PGlite
// only (which address a request comes from is decided before any query).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { insertUser } from '../../db/records.ts';
import { hashSecret } from '../../server/auth/passwords.ts';
import { addDays, localNow } from '../../server/records/appointments.ts';

const PASSWORD = 'a-long-test-password';

async function post(stack: Stack, path: string, body: unknown, forwardedFor?: string) {
  const res = await fetch(stack.base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

async function failLogins(stack: Stack, email: string, n: number, forwardedFor: (i: number) => string) {
  for (let i = 0; i < n; i++) expect((await post(stack, '/api/auth/login', { email, password: `wrong-${i}` }, forwardedFor(i))).status).toBe(401);
}

describe.each<DbKind>(['pglite', 'postgres'])('without TRUST_PROXY (the default) on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { REGISTRATIONS_PER_ADDRESS_PER_HOUR: '3' });
  });
  afterAll(async () => stack?.close());

  it('ignores X-Forwarded-For: ten failures under ten made-up addresses lock the real one', async () => {
    await stack.api('POST', '/api/auth/register', { email: 'xff@test.local', name: 'Xff Nurse', password: PASSWORD, role: 'nurse' });
    await failLogins(stack, 'xff@test.local', 10, (i) => `203.0.113.${i + 1}`);
    const right = await post(stack, '/api/auth/login', { email: 'xff@test.local', password: PASSWORD }, '198.51.100.77');
    expect(right.status).toBe(429);
    expect(Number(right.retryAfter)).toBeGreaterThan(0);
    // The audit records the peer's address, not the one the client claimed.
    await new Promise((r) => setTimeout(r, 200));
    const audit = await stack.api('GET', '/api/audit?limit=200');
    expect(audit.status).toBe(200);
    const failed = audit.body.items.filter((e: { action: string }) => e.action === 'login-failed');
    expect(failed.length).toBe(10);
    expect(failed.every((e: { ip: string }) => String(e.ip).includes('127.0.0.1'))).toBe(true);
  });

  it('caps self-registrations per source address, whatever the header says; staff registrations are not capped', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await post(stack, '/api/auth/register', { email: `self-${i}@test.local`, name: `Self ${i}`, password: PASSWORD }, `192.0.2.${i}`);
      expect(r.status).toBe(201);
    }
    const fourth = await post(stack, '/api/auth/register', { email: 'self-3@test.local', name: 'Self 3', password: PASSWORD }, '192.0.2.99');
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.message).toMatch(/too many accounts registered from this address \(3 an hour\)/);
    expect(Number(fourth.retryAfter)).toBeGreaterThan(0);
    // Nothing was created for the refused one.
    expect((await post(stack, '/api/auth/login', { email: 'self-3@test.local', password: PASSWORD })).status).toBe(401);
    // The front desk registering a patient from the same desk is not limited by it.
    const desk = await stack.api('POST', '/api/auth/register', { email: `desk-${randomUUID().slice(0, 6)}@test.local`, name: 'Desk', password: PASSWORD, role: 'front-desk' });
    expect(desk.status).toBe(201);
    const deskToken = await stack.login(desk.body.email, PASSWORD);
    const byDesk = await stack.api('POST', '/api/auth/register', { email: 'walk-in@test.local', name: 'Walk In', password: PASSWORD }, deskToken);
    expect(byDesk.status).toBe(201);
  });

  it("caps a patient account's appointments with one doctor on one day; staff may still book; a cancellation frees the place", async () => {
    const patient = (await stack.api('POST', '/api/patients', { name: 'Busy Booker' })).body.id as string;
    const other = (await stack.api('POST', '/api/patients', { name: 'Other Booker' })).body.id as string;
    const uid = randomUUID();
    await insertUser(stack.server.db.driver, { id: uid, email: `booker-${uid.slice(0, 6)}@test.local`, name: 'Booker', role: 'patient', passwordHash: await hashSecret(PASSWORD) });
    await stack.server.db.driver.query('UPDATE users SET patient_id = $2 WHERE id = $1', [uid, patient]);
    const token = await stack.login(`booker-${uid.slice(0, 6)}@test.local`, PASSWORD);
    const doctor = (await stack.api('POST', '/api/doctors', { name: 'Dr Cap', room: '1', slotMinutes: 15 })).body.id as string;
    const week = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '08:00', endTime: '18:00' }));
    expect((await stack.api('PUT', `/api/doctors/${doctor}/schedule`, { shifts: week, leave: [] })).status).toBe(200);
    const day = addDays(localNow().date, 3);
    const book = (time: string, tok?: string, patientId = patient) => stack.api('POST', '/api/appointments', { patientId, doctorId: doctor, date: day, time }, tok);

    const first = await book('09:00', token);
    expect(first.status).toBe(201);
    expect((await book('09:15', token)).status).toBe(201);
    const third = await book('09:30', token);
    expect(third.status).toBe(409);
    expect(third.body.error.message).toMatch(/already holds 2 appointment\(s\) with this doctor on .* \(at most 2 a day\)/);
    // Another day, another doctor's day: fine.
    expect((await stack.api('POST', '/api/appointments', { patientId: patient, doctorId: doctor, date: addDays(day, 1), time: '09:30' }, token)).status).toBe(201);
    // Rescheduling a third one into the full day is refused too.
    const next = (await stack.api('GET', `/api/appointments?patientId=${patient}&date=${addDays(day, 1)}`, undefined, token)).body.items[0];
    const moved = await stack.api('PUT', `/api/appointments/${next.id}/reschedule`, { date: day, time: '10:00' }, token);
    expect(moved.status).toBe(409);
    // The desk books for the patient regardless (a same-day follow-up), and other patients are unaffected.
    expect((await book('09:45')).status).toBe(201);
    expect((await book('10:15', undefined, other)).status).toBe(201);
    // The desk's booking counts towards the cap: cancelling one of three leaves two, still full.
    expect((await stack.api('PUT', `/api/appointments/${first.body.id}/cancel`, {}, token)).status).toBe(200);
    expect((await book('10:30', token)).status).toBe(409);
    // A second cancellation frees a place.
    const second = (await stack.api('GET', `/api/appointments?patientId=${patient}&date=${day}&status=pending`, undefined, token)).body.items.find((a: { time: string }) => a.time.startsWith('09:15'));
    expect((await stack.api('PUT', `/api/appointments/${second.id}/cancel`, {}, token)).status).toBe(200);
    expect((await book('10:30', token)).status).toBe(201);
  });
});

describe('with TRUST_PROXY naming the proxy', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite', undefined, { TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(async () => stack?.close());

  it("believes the proxy's X-Forwarded-For: one locked-out client does not lock out another behind the same proxy", async () => {
    await stack.api('POST', '/api/auth/register', { email: 'proxied@test.local', name: 'Proxied', password: PASSWORD, role: 'nurse' });
    await failLogins(stack, 'proxied@test.local', 10, () => '203.0.113.5');
    expect((await post(stack, '/api/auth/login', { email: 'proxied@test.local', password: PASSWORD }, '203.0.113.5')).status).toBe(429);
    expect((await post(stack, '/api/auth/login', { email: 'proxied@test.local', password: PASSWORD }, '198.51.100.7')).status).toBe(200);
  });
});

describe('TRUST_PROXY naming another address', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite', undefined, { TRUST_PROXY: '10.9.8.7' });
  });
  afterAll(async () => stack?.close());

  it('does not believe a header from a peer it does not name', async () => {
    await stack.api('POST', '/api/auth/register', { email: 'direct@test.local', name: 'Direct', password: PASSWORD, role: 'nurse' });
    await failLogins(stack, 'direct@test.local', 10, (i) => `203.0.113.${i + 1}`);
    expect((await post(stack, '/api/auth/login', { email: 'direct@test.local', password: PASSWORD }, '198.51.100.8')).status).toBe(429);
  });
});
