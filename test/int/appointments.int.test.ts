// Schedules, booking, tokens and the queue against the real server on both databases: the
// no-double-booking guarantee is the database's (unique indexes), so the races run for real.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, connectSocket, eventually, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';
import { insertUser } from '../../db/records.ts';
import { hashSecret } from '../../server/auth/passwords.ts';
import { addDays, dayOfWeek, localNow } from '../../server/records/appointments.ts';
import type { QueueCalledEvent } from '../../server/domain/events.ts';

const ALL_WEEK = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '08:00', endTime: '18:00' }));
const PASSWORD = 'a-long-test-password';

describe.each(['postgres', 'pglite'] as const)('appointments and queue on %s', (kind) => {
  let stack: Stack;
  const sockets: LiveSocket[] = [];
  const today = localNow().date;
  const day = (n: number) => addDays(today, n);

  beforeAll(async () => {
    stack = await startStack(kind, kind === 'postgres' ? inject('pgUrl') : undefined);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await stack?.close();
  });

  async function staff(role: string): Promise<{ id: string; token: string }> {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: `${role} user`, password: PASSWORD, role, ...(role === 'kiosk' ? { wards: ['OPD'] } : {}) });
    expect(r.status).toBe(201);
    return { id: r.body.id, token: await stack.login(email, PASSWORD) };
  }

  async function patient(name = 'Ada Lovelace'): Promise<string> {
    const r = await stack.api('POST', '/api/patients', { name });
    expect(r.status).toBe(201);
    return r.body.id;
  }

  /** A patient account (no registration endpoint for patients yet: straight into the database). */
  async function patientAccount(patientId: string): Promise<string> {
    const id = randomUUID();
    const email = `patient-${id.slice(0, 8)}@test.local`;
    await insertUser(stack.server.db.driver, { id, email, name: 'Patient', role: 'patient', passwordHash: await hashSecret(PASSWORD) });
    await stack.server.db.driver.query('UPDATE users SET patient_id = $2 WHERE id = $1', [id, patientId]);
    return stack.login(email, PASSWORD);
  }

  async function doctor(opts: { userId?: string; shifts?: unknown[]; leave?: unknown[]; slotMinutes?: number; name?: string } = {}): Promise<string> {
    const r = await stack.api('POST', '/api/doctors', { name: opts.name ?? 'Dr Grace Hopper', room: '3', slotMinutes: opts.slotMinutes ?? 15, userId: opts.userId ?? null });
    expect(r.status).toBe(201);
    const s = await stack.api('PUT', `/api/doctors/${r.body.id}/schedule`, { shifts: opts.shifts ?? ALL_WEEK, leave: opts.leave ?? [] });
    expect(s.status).toBe(200);
    return r.body.id;
  }

  const book = (body: Record<string, unknown>, token?: string) => stack.api('POST', '/api/appointments', body, token);

  it('replaces and returns a schedule; validates it; a doctor manages only their own', async () => {
    const docUser = await staff('doctor');
    const mine = await doctor({ userId: docUser.id });
    const other = await doctor();
    const body = { shifts: [{ dayOfWeek: 1, startTime: '09:00', endTime: '12:00' }, { dayOfWeek: 1, startTime: '13:00', endTime: '17:00' }], leave: [{ fromDate: day(10), toDate: day(12), reason: 'conference' }] };
    const put = await stack.api('PUT', `/api/doctors/${mine}/schedule`, body, docUser.token);
    expect(put.status).toBe(200);
    const got = await stack.api('GET', `/api/doctors/${mine}/schedule`, undefined, (await staff('nurse')).token);
    expect(got.status).toBe(200);
    expect(got.body.shifts).toEqual(body.shifts);
    expect(got.body.leave).toMatchObject([{ fromDate: day(10), toDate: day(12), reason: 'conference' }]);

    expect((await stack.api('PUT', `/api/doctors/${other}/schedule`, body, docUser.token)).status).toBe(403);
    expect((await stack.api('PUT', `/api/doctors/${other}/schedule`, body, (await staff('nurse')).token)).status).toBe(403);
    expect((await stack.api('PUT', `/api/doctors/${other}/schedule`, body, (await staff('front-desk')).token)).status).toBe(200);

    const overlap = await stack.api('PUT', `/api/doctors/${mine}/schedule`, { shifts: [{ dayOfWeek: 2, startTime: '09:00', endTime: '12:00' }, { dayOfWeek: 2, startTime: '11:00', endTime: '13:00' }], leave: [] });
    expect(overlap.status).toBe(400);
    expect(overlap.body.error.message).toMatch(/overlaps/);
    const inverted = await stack.api('PUT', `/api/doctors/${mine}/schedule`, { shifts: [{ dayOfWeek: 2, startTime: '12:00', endTime: '09:00' }], leave: [] });
    expect(inverted.status).toBe(400);
    expect(inverted.body.error.message).toMatch(/startTime 12:00 must be before endTime 09:00/);
    // unchanged after the refusals
    expect((await stack.api('GET', `/api/doctors/${mine}/schedule`)).body.shifts).toEqual(body.shifts);
  });

  it('books only inside the schedule, not on leave, not in the past', async () => {
    const target = day(7);
    const dow = dayOfWeek(target);
    const doc = await doctor({ shifts: [{ dayOfWeek: dow, startTime: '09:00', endTime: '12:00' }], leave: [{ fromDate: day(14), toDate: day(14), reason: 'training' }] });
    const p = await patient();
    const ok = await book({ patientId: p, doctorId: doc, date: target, time: '09:15', reason: 'check-up' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ status: 'pending', tokenNumber: 1, priority: 'normal', date: target, time: '09:15', patientName: 'Ada Lovelace' });

    const outside = await book({ patientId: p, doctorId: doc, date: target, time: '12:00' });
    expect(outside.status).toBe(409);
    expect(outside.body.error).toMatchObject({ code: 'ERR_NOT_BOOKABLE', message: expect.stringMatching(/outside the doctor's hours/) });
    const offGrid = await book({ patientId: p, doctorId: doc, date: target, time: '09:10' });
    expect(offGrid.status).toBe(409);
    expect(offGrid.body.error.code).toBe('ERR_NOT_BOOKABLE');
    expect(offGrid.body.error.message).toMatch(/not a slot start/);
    const noShift = await book({ patientId: p, doctorId: doc, date: day(8), time: '09:00' });
    expect(noShift.status).toBe(409);
    expect(noShift.body.error.code).toBe('ERR_NOT_BOOKABLE');
    expect(noShift.body.error.message).toMatch(/no shift on/);
    const leave = await book({ patientId: p, doctorId: doc, date: day(14), time: '09:00' });
    expect(leave.status).toBe(409);
    expect(leave.body.error.code).toBe('ERR_NOT_BOOKABLE');
    expect(leave.body.error.message).toMatch(/on leave .*\(training\)/);
    const past = await book({ patientId: p, doctorId: doc, date: day(-7), time: '09:00' });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('ERR_VALIDATION');
    expect(past.body.error.message).toMatch(/in the past/);
    const bad = await book({ patientId: p, doctorId: doc, date: target, time: '9:00' });
    expect(bad.status).toBe(400);
    expect((await book({ patientId: randomUUID(), doctorId: doc, date: target, time: '09:30' })).status).toBe(404);
    expect((await book({ patientId: p, doctorId: randomUUID(), date: target, time: '09:30' })).status).toBe(404);
  });

  it('20 concurrent requests for one slot: exactly one 201, the rest 409 "slot taken"', async () => {
    const doc = await doctor();
    const patients = await Promise.all(Array.from({ length: 20 }, (_, i) => patient(`Racer ${i}`)));
    const results = await Promise.all(patients.map((p) => book({ patientId: p, doctorId: doc, date: day(3), time: '10:00' })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.status)).toEqual(Array(19).fill(409));
    for (const r of refused) expect(r.body.error).toMatchObject({ code: 'ERR_SLOT_TAKEN', message: `slot taken: the doctor already has an appointment on ${day(3)} at 10:00` });
    const list = await stack.api('GET', `/api/appointments?doctorId=${doc}&date=${day(3)}`);
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].tokenNumber).toBe(1);
    // the guarantee is the database's, not only the code's: a writer that skips every check is
    // refused, and the refusal names the index (what the server recognises it by, on both drivers)
    const raw = stack.server.db.driver.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number) VALUES ($1, $2, $3, $4, $5, 99)', [randomUUID(), patients[0], doc, day(3), '10:00']);
    await expect(raw).rejects.toMatchObject({ code: '23505', constraint: 'appointments_slot' });
    const sameToken = stack.server.db.driver.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number) VALUES ($1, $2, $3, $4, $5, 1)', [randomUUID(), patients[0], doc, day(3), '11:00']);
    await expect(sameToken).rejects.toMatchObject({ code: '23505', constraint: 'appointments_token' });
  });

  it('gives tokens 1..n in booking order, and distinct consecutive tokens under concurrency', async () => {
    const doc = await doctor();
    const p = await patient();
    const times = ['11:00', '08:30', '15:45', '09:00'];
    const tokens = [];
    for (const time of times) tokens.push((await book({ patientId: p, doctorId: doc, date: day(2), time })).body.tokenNumber);
    expect(tokens).toEqual([1, 2, 3, 4]);

    const slots = Array.from({ length: 20 }, (_, i) => `${String(8 + Math.floor(i / 4)).padStart(2, '0')}:${String((i % 4) * 15).padStart(2, '0')}`);
    const results = await Promise.all(slots.map((time) => book({ patientId: p, doctorId: doc, date: day(5), time })));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(results.map((r) => r.body.tokenNumber).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('never hands out a token number twice, even after the holder moved to another day', async () => {
    const doc = await doctor();
    const p = await patient();
    const first = (await book({ patientId: p, doctorId: doc, date: day(4), time: '09:00' })).body;
    const second = (await book({ patientId: p, doctorId: doc, date: day(4), time: '09:15' })).body;
    expect([first.tokenNumber, second.tokenNumber]).toEqual([1, 2]);
    const moved = await stack.api('PUT', `/api/appointments/${second.id}/reschedule`, { date: day(6), time: '10:00' });
    expect(moved.status).toBe(200);
    const third = (await book({ patientId: p, doctorId: doc, date: day(4), time: '09:30' })).body;
    expect(third.tokenNumber).toBe(3);
  });

  it('leaves urgency to staff: a patient may not book as urgent', async () => {
    const doc = await doctor();
    const me = await patient('Urgent Ursula');
    const token = await patientAccount(me);
    const r = await book({ patientId: me, doctorId: doc, date: day(3), time: '10:00', priority: 'urgent' }, token);
    expect(r).toMatchObject({ status: 403, body: { error: { message: 'only staff may book an urgent appointment' } } });
  });

  it('confirm, complete, cancel, reschedule: legal moves only', async () => {
    const doc = await doctor();
    const p = await patient();
    const a = (await book({ patientId: p, doctorId: doc, date: day(4), time: '09:00' })).body;
    const b = (await book({ patientId: p, doctorId: doc, date: day(4), time: '09:15' })).body;

    expect((await stack.api('PUT', `/api/appointments/${a.id}/confirm`)).body.status).toBe('confirmed');
    const again = await stack.api('PUT', `/api/appointments/${a.id}/confirm`);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'ERR_ILLEGAL_TRANSITION', message: 'cannot confirm a confirmed appointment (allowed from: pending)' });
    expect((await stack.api('PUT', `/api/appointments/${a.id}/complete`)).body.status).toBe('completed');
    expect((await stack.api('PUT', `/api/appointments/${a.id}/cancel`)).status).toBe(409);
    expect((await stack.api('PUT', `/api/appointments/${a.id}/reschedule`, { date: day(6), time: '09:00' })).body.error).toMatchObject({ code: 'ERR_ILLEGAL_TRANSITION', message: 'cannot reschedule a completed appointment' });

    // cancelling frees the slot (the token is kept, not reused)
    expect((await stack.api('PUT', `/api/appointments/${b.id}/cancel`)).body.status).toBe('cancelled');
    expect((await stack.api('PUT', `/api/appointments/${b.id}/complete`)).status).toBe(409);
    const rebook = await book({ patientId: p, doctorId: doc, date: day(4), time: '09:15' });
    expect(rebook.status).toBe(201);
    expect(rebook.body.tokenNumber).toBe(3);

    // reschedule: into a taken slot refused; to another day gets that day's next token
    const c = (await book({ patientId: p, doctorId: doc, date: day(4), time: '10:00' })).body;
    const taken = await stack.api('PUT', `/api/appointments/${c.id}/reschedule`, { date: day(4), time: '09:15' });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: 'ERR_SLOT_TAKEN', message: `slot taken: the doctor already has an appointment on ${day(4)} at 09:15` });
    await book({ patientId: p, doctorId: doc, date: day(6), time: '08:00' });
    const moved = await stack.api('PUT', `/api/appointments/${c.id}/reschedule`, { date: day(6), time: '12:30' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ date: day(6), time: '12:30', tokenNumber: 2, status: 'pending' });
    expect((await stack.api('PUT', `/api/appointments/${c.id}/reschedule`, { date: day(6), time: '18:00' })).status).toBe(409);
    // the old slot is free again
    expect((await book({ patientId: p, doctorId: doc, date: day(4), time: '10:00' })).status).toBe(201);

    const audit = await eventually(async () => {
      const r = await stack.api('GET', `/api/audit?patientId=${p}&limit=500`);
      const mine = (r.body.items ?? []).filter((e: { resource: string; resourceId: string }) => e.resource === 'appointment' && e.resourceId === c.id);
      return mine.length >= 2 ? mine : null;
    }, 5000, 'audit entries');
    expect(audit.map((e: { action: string }) => e.action).sort()).toEqual(['create', 'reschedule']);
    expect((await stack.api('GET', `/api/audit?patientId=${p}&limit=500`)).body.items.filter((e: { resource: string; action: string }) => e.resource === 'appointment').map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['confirm', 'complete', 'cancel']),
    );
  });

  it('audits every read of appointments (names and visit reasons): one, and each list', async () => {
    const doc = await doctor();
    const p = await patient('Read Audited');
    const other = await patient('Not Listed');
    const a = (await book({ patientId: p, doctorId: doc, date: day(5), time: '11:00', reason: 'private matter' })).body;
    await book({ patientId: other, doctorId: doc, date: day(5), time: '11:15' });
    const nurse = await staff('nurse');
    expect((await stack.api('GET', `/api/appointments/${a.id}`, undefined, nurse.token)).body.reason).toBe('private matter');
    expect((await stack.api('GET', `/api/appointments?patientId=${p}`, undefined, nurse.token)).body.total).toBe(1);
    expect((await stack.api('GET', `/api/appointments?doctorId=${doc}&date=${day(5)}`, undefined, nurse.token)).body.total).toBe(2);
    // a refused read (unknown id) is not a read of anyone's data
    expect((await stack.api('GET', `/api/appointments/${randomUUID()}`, undefined, nurse.token)).status).toBe(404);

    const reads = await eventually(async () => {
      const r = await stack.api('GET', `/api/audit?limit=500`);
      const mine = (r.body.items ?? []).filter((e: { actorId: string; resource: string }) => e.actorId === nurse.id && e.resource === 'appointment');
      return mine.length >= 3 ? mine : null;
    }, 5000, 'audit entries of the reads');
    expect(reads).toHaveLength(3);
    const byAction = (action: string) => reads.filter((e: { action: string }) => e.action === action);
    expect(byAction('read')).toMatchObject([{ resourceId: a.id, patientId: p, actorRole: 'nurse' }]);
    const lists = byAction('list');
    expect(lists).toHaveLength(2);
    expect(lists).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resourceId: null, patientId: p, details: { count: 1, filters: { patientId: p }, patients: [p] } }),
        expect.objectContaining({ resourceId: null, patientId: null, details: { count: 2, filters: { doctorId: doc, date: day(5) }, patients: expect.arrayContaining([p, other]) } }),
      ]),
    );
  });

  it('a patient account books and sees only its own; not for another patient', async () => {
    const doc = await doctor();
    const me = await patient('Me Myself');
    const other = await patient('Somebody Else');
    const token = await patientAccount(me);
    const mine = await book({ patientId: me, doctorId: doc, date: day(3), time: '08:00' }, token);
    expect(mine.status).toBe(201);
    const theirs = await book({ patientId: other, doctorId: doc, date: day(3), time: '08:15' }, token);
    expect(theirs.status).toBe(403);
    const staffBooked = (await book({ patientId: other, doctorId: doc, date: day(3), time: '08:30' })).body;

    const list = await stack.api('GET', '/api/appointments', undefined, token);
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { patientId: string }) => a.patientId)).toEqual([me]);
    expect((await stack.api('GET', `/api/appointments/${staffBooked.id}`, undefined, token)).status).toBe(404);
    expect((await stack.api('PUT', `/api/appointments/${staffBooked.id}/cancel`, undefined, token)).status).toBe(404);
    expect((await stack.api('PUT', `/api/appointments/${mine.body.id}/confirm`, undefined, token)).status).toBe(403);
    expect((await stack.api('PUT', `/api/appointments/${mine.body.id}/cancel`, undefined, token)).body.status).toBe('cancelled');
    // a patient may look up free slots
    expect((await stack.api('GET', `/api/doctors/${doc}/slots?from=${day(3)}&days=1&limit=2`, undefined, token)).status).toBe(200);
  });

  it('next free slots honour the preference, and urgent gives the earliest', async () => {
    const d1 = day(1);
    const d2 = day(2);
    const doc = await doctor({ slotMinutes: 30, shifts: [{ dayOfWeek: dayOfWeek(d1), startTime: '09:00', endTime: '10:30' }, { dayOfWeek: dayOfWeek(d2), startTime: '14:00', endTime: '15:00' }] });
    const p = await patient();
    await book({ patientId: p, doctorId: doc, date: d1, time: '09:00' });
    const plain = await stack.api('GET', `/api/doctors/${doc}/slots?from=${d1}&days=2&limit=10`);
    expect(plain.status).toBe(200);
    expect(plain.body.items.map((s: { date: string; time: string }) => `${s.date} ${s.time}`)).toEqual([`${d1} 09:30`, `${d1} 10:00`, `${d2} 14:00`, `${d2} 14:30`]);

    const afternoon = await stack.api('GET', `/api/doctors/${doc}/slots?from=${d1}&days=2&limit=3&fromTime=13:00&toTime=18:00`);
    expect(afternoon.body.items).toEqual([
      { date: d2, time: '14:00', preferred: true },
      { date: d2, time: '14:30', preferred: true },
      { date: d1, time: '09:30', preferred: false },
    ]);
    const byDay = await stack.api('GET', `/api/doctors/${doc}/slots?from=${d1}&days=2&limit=1&preferredDays=${dayOfWeek(d2)}`);
    expect(byDay.body.items).toEqual([{ date: d2, time: '14:00', preferred: true }]);
    const urgent = await stack.api('GET', `/api/doctors/${doc}/slots?from=${d1}&days=2&limit=2&fromTime=13:00&urgent=true`);
    expect(urgent.body.items.map((s: { time: string }) => s.time)).toEqual(['09:30', '10:00']);
    expect((await stack.api('GET', `/api/doctors/${doc}/slots?preferredDays=9`)).status).toBe(400);
  });

  it('calls the queue urgent first, then by token, and pushes each call to the display room', async () => {
    const docUser = await staff('doctor');
    const doc = await doctor({ userId: docUser.id, name: 'Dr Queue' });
    const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra'];
    const ids = await Promise.all(names.map((n) => patient(n)));
    // Today's appointments straight into the table: booking through the API refuses past times,
    // and this test must not depend on the hour it runs at.
    const db = stack.server.db.driver;
    const rows = [
      { p: ids[0], time: '08:00', token: 1, priority: 'normal', status: 'confirmed' },
      { p: ids[1], time: '08:15', token: 2, priority: 'normal', status: 'pending' },
      { p: ids[2], time: '08:30', token: 3, priority: 'urgent', status: 'pending' },
      { p: ids[3], time: '08:45', token: 4, priority: 'normal', status: 'cancelled' },
    ];
    for (const r of rows) {
      await db.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number, priority, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [randomUUID(), r.p, doc, today, r.time, r.token, r.priority, r.status]);
    }

    const kiosk = await staff('kiosk');
    const s = await connectSocket(stack.base, kiosk.token);
    sockets.push(s);
    const calls = collect(s, 'queue:called');
    const sub = await s.emitWithAck('subscribe', { queue: doc });
    expect(sub).toMatchObject({ ok: true, data: { room: `queue:${doc}`, queue: { current: null, waiting: 3, room: '3', doctorName: 'Dr Queue' } } });
    expect((await s.emitWithAck('subscribe', { queue: 'nope' } as never)).ok).toBe(false);
    // a pharmacist may watch a queue display but not a ward's vitals
    const pharmacist = await connectSocket(stack.base, (await staff('pharmacist')).token);
    sockets.push(pharmacist);
    expect((await pharmacist.emitWithAck('subscribe', { queue: doc })).ok).toBe(true);
    const ward = await pharmacist.emitWithAck('subscribe', { ward: 'A' });
    expect(ward).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });

    const nurse = await staff('nurse');
    const order = [];
    for (let i = 0; i < 3; i++) {
      const r = await stack.api('POST', `/api/queue/${doc}/next`, undefined, i === 0 ? docUser.token : nurse.token);
      expect(r.status).toBe(200);
      order.push(r.body.call.tokenNumber);
    }
    expect(order).toEqual([3, 1, 2]);
    const empty = await stack.api('POST', `/api/queue/${doc}/next`, undefined, nurse.token);
    expect(empty.status).toBe(409);
    expect(empty.body.error).toMatchObject({ code: 'ERR_QUEUE_EMPTY', message: `nobody is waiting for Dr Queue today (${today})` });

    await eventually(() => calls.length === 3, 5000, 'three queue:called events');
    expect(calls.map((c: QueueCalledEvent) => [c.tokenNumber, c.patientName, c.room, c.date])).toEqual([
      [3, 'Grace H.', '3', today],
      [1, 'Ada L.', '3', today],
      [2, 'Alan T.', '3', today],
    ]);
    const state = await stack.api('GET', `/api/queue/${doc}`, undefined, kiosk.token);
    expect(state.body).toMatchObject({ waiting: 0, current: { tokenNumber: 2, patientName: 'Alan T.' } });

    // another doctor may not call this queue; the kiosk may not call at all
    const otherDoc = await staff('doctor');
    expect((await stack.api('POST', `/api/queue/${doc}/next`, undefined, otherDoc.token)).status).toBe(403);
    expect((await stack.api('POST', `/api/queue/${doc}/next`, undefined, kiosk.token)).status).toBe(403);
  });
});
