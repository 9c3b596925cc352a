// Symptom → doctor suggestions on each database driver: the symptom map as a generic resource kept
// by admins (the demo's starter map loaded through the API, as `npm run demo` does), ranking by
// weight, each speciality's live doctors with their next free slots from the same slot search as
// GET /api/doctors/{id}/slots, unknown symptoms reported back, and precise refusals.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { restClient } from '../../simulator/seed.ts';
import { STARTER_SYMPTOM_MAP, seedSymptomMap } from '../../simulator/symptom-map.ts';
import { addDays, localNow } from '../../server/records/appointments.ts';

const ALL_WEEK = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '00:00', endTime: '23:45' }));
const PASSWORD = 'long-enough-password';

describe.each<DbKind>(['pglite', 'postgres'])('doctor suggestions on %s', (kind) => {
  let stack: Stack;
  const tokens: Record<string, string> = {};
  let early = ''; // cardiologist with a free slot today
  let late = ''; // cardiologist on leave today and tomorrow
  let unscheduled = ''; // cardiologist without a schedule
  let archived = ''; // an archived cardiologist
  let respiratory = '';
  const today = localNow().date;

  const suggest = (query: string, token = stack.adminToken) => stack.api('GET', `/api/doctors/suggest?${query}`, undefined, token);
  const doctor = async (name: string, specialities: string[], schedule?: { leave?: unknown[] }) => {
    const d = await stack.api('POST', '/api/doctors', { name, specialities, room: '1', slotMinutes: 15 });
    expect(d.status).toBe(201);
    if (schedule) expect((await stack.api('PUT', `/api/doctors/${d.body.id}/schedule`, { shifts: ALL_WEEK, leave: schedule.leave ?? [] })).status).toBe(200);
    return d.body.id as string;
  };

  beforeAll(async () => {
    stack = await startStack(kind, kind === 'postgres' ? inject('pgUrl') : undefined);
    for (const role of ['front-desk', 'nurse', 'doctor', 'pharmacist', 'lab', 'kiosk']) {
      const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
      const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: PASSWORD, role, ...(role === 'kiosk' ? { wards: ['A'] } : {}) });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      tokens[role] = await stack.login(email, PASSWORD);
    }
    const p = await stack.api('POST', '/api/auth/register', { email: 'suggest-patient@test.local', name: 'Sue Gest', password: PASSWORD }, null);
    expect(p.status).toBe(201);
    tokens.patient = await stack.login('suggest-patient@test.local', PASSWORD);

    early = await doctor('Dr Early Heart', ['Cardiology'], {});
    late = await doctor('Dr Late Heart', ['cardiology', 'Internal medicine'], { leave: [{ fromDate: today, toDate: addDays(today, 1), reason: 'course' }] });
    unscheduled = await doctor('Dr Aaron Unscheduled', ['Cardiology']);
    archived = await doctor('Dr Gone', ['Cardiology'], {});
    expect((await stack.api('DELETE', `/api/doctors/${archived}`)).status).toBe(200);
    respiratory = await doctor('Dr Lung', ['Respiratory medicine'], {});
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('loads the demo’s starter map through the API once, and never over an edited one', async () => {
    const admin = restClient(stack.base, stack.adminToken);
    expect(await seedSymptomMap(admin)).toBe(STARTER_SYMPTOM_MAP.length);
    expect(await seedSymptomMap(admin)).toBe(0);
    const all = await stack.api('GET', '/api/symptom-map?limit=500');
    expect(all.body.total).toBe(STARTER_SYMPTOM_MAP.length);
    expect(all.body.items).toContainEqual(expect.objectContaining({ symptom: 'chest pain', speciality: 'Cardiology', weight: 3 }));
  });

  it('ranks specialities by the weights of the symptoms that point there, with their live doctors by earliest free slot', async () => {
    const r = await suggest('symptoms=chest pain,breathlessness');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.symptoms).toEqual(['chest pain', 'breathlessness']);
    expect(r.body.unmatched).toEqual([]);
    // chest pain: Cardiology 3, Internal medicine 1; breathlessness: Respiratory medicine 2, Cardiology 2.
    expect(r.body.specialities.map((s: { speciality: string; score: number }) => [s.speciality, s.score])).toEqual([
      ['Cardiology', 5],
      ['Respiratory medicine', 2],
      ['Internal medicine', 1],
    ]);
    expect(r.body.specialities[0].matched).toEqual([
      { symptom: 'chest pain', weight: 3 },
      { symptom: 'breathlessness', weight: 2 },
    ]);
    const cardiology = r.body.specialities[0].doctors as { id: string; name: string; nextSlots: { date: string; time: string }[] }[];
    // Case-insensitive speciality match; the archived doctor is left out; no schedule: no slots, last.
    expect(cardiology.map((d) => d.id)).toEqual([early, late, unscheduled]);
    expect(cardiology[2]!.nextSlots).toEqual([]);
    expect(cardiology[1]!.nextSlots[0]!.date >= addDays(today, 2)).toBe(true);
    // The same slots the slot search gives (the earliest ones), three by default.
    for (const d of cardiology.slice(0, 2)) {
      const slots = await stack.api('GET', `/api/doctors/${d.id}/slots?urgent=true&limit=3`);
      expect(d.nextSlots).toEqual(slots.body.items.map(({ date, time }: { date: string; time: string }) => ({ date, time })));
    }
    expect(cardiology[0]).toMatchObject({ name: 'Dr Early Heart', specialities: ['Cardiology'], languages: [], fee: 0, room: '1' });
    expect(r.body.specialities[1].doctors.map((d: { id: string }) => d.id)).toEqual([respiratory]);
    expect(r.body.specialities[2].doctors.map((d: { id: string }) => d.id)).toEqual([late]);
  });

  it('follows bookings: a booked slot is no longer suggested', async () => {
    const before = (await suggest('symptoms=palpitations&slots=2')).body.specialities[0].doctors[0];
    expect(before.id).toBe(early);
    expect(before.nextSlots).toHaveLength(2);
    const patient = (await stack.api('POST', '/api/patients', { name: 'Booked Patient' })).body.id;
    const booked = await stack.api('POST', '/api/appointments', { patientId: patient, doctorId: early, ...before.nextSlots[0] });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    const after = (await suggest('symptoms=palpitations&slots=2')).body.specialities[0].doctors[0];
    expect(after.nextSlots[0]).toEqual(before.nextSlots[1]);
  });

  it('normalises and de-duplicates symptoms, and reports unknown ones instead of refusing', async () => {
    const r = await suggest(`symptoms=${encodeURIComponent('  Chest   PAIN ,purple elbows,chest pain')}`);
    expect(r.status).toBe(200);
    expect(r.body.symptoms).toEqual(['chest pain', 'purple elbows']);
    expect(r.body.unmatched).toEqual(['purple elbows']);
    expect(r.body.specialities[0].speciality).toBe('Cardiology');
    const none = await suggest('symptoms=purple elbows,green knees');
    expect(none).toMatchObject({ status: 200, body: { unmatched: ['purple elbows', 'green knees'], specialities: [] } });
    const repeated = await suggest('symptoms=rash&symptoms=itching');
    expect(repeated.body).toMatchObject({ symptoms: ['rash', 'itching'], unmatched: [], specialities: [{ speciality: 'Dermatology', score: 5, doctors: [] }] });
  });

  it('refuses a bad query precisely', async () => {
    const refusal = async (query: string) => {
      const r = await suggest(query);
      expect(r.status, query).toBe(400);
      expect(r.body.error.code).toBe('ERR_VALIDATION');
      return r.body.error.message as string;
    };
    expect(await refusal('')).toBe('query.symptoms: required: 1–10 symptoms, comma-separated (symptoms=chest pain,cough)');
    expect(await refusal('symptoms=')).toBe('query.symptoms: give 1–10 symptoms, comma-separated (symptoms=chest pain,cough)');
    expect(await refusal('symptoms=%20%20')).toMatch(/^query\.symptoms: give 1–10 symptoms/);
    expect(await refusal('symptoms=cough,,rash')).toBe('query.symptoms: symptom 2 is empty');
    expect(await refusal('symptoms=cough,')).toBe('query.symptoms: symptom 2 is empty');
    expect(await refusal(`symptoms=${Array.from({ length: 11 }, (_, i) => `s${i}`).join(',')}`)).toBe('query.symptoms: at most 10 symptoms, got 11');
    expect(await refusal(`symptoms=cough,${'x'.repeat(101)}`)).toBe('query.symptoms: symptom 2 is longer than 100 characters');
    expect(await refusal('symptoms=cough&slots=0')).toMatch(/^query\.slots: /);
    expect(await refusal('symptoms=cough&days=91')).toMatch(/^query\.days: /);
    expect(await refusal('symptoms=cough&doctor=x')).toMatch(/doctor/);
  });

  it('is described in the OpenAPI document, with its roles and a required symptoms parameter', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json', undefined, null)).body;
    const op = doc.paths['/api/doctors/suggest'].get;
    expect(op.description).toBe('Roles: admin, front-desk, doctor, nurse, patient (permission `doctors:suggest`).');
    expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'symptoms', in: 'query', required: true }));
    expect(Object.keys(doc.paths['/api/symptom-map/{id}']).sort()).toEqual(['delete', 'get', 'put']);
  });

  it('answers the roles that book and patients; refuses the others', async () => {
    for (const role of ['front-desk', 'nurse', 'doctor', 'patient']) expect((await suggest('symptoms=cough', tokens[role])).status, role).toBe(200);
    for (const role of ['pharmacist', 'lab', 'kiosk']) {
      const r = await suggest('symptoms=cough', tokens[role]);
      expect(r.status, role).toBe(403);
      expect(r.body.error.message).toBe(`role '${role}' lacks permission 'doctors:suggest'`);
    }
    expect((await stack.api('GET', '/api/doctors/suggest?symptoms=cough', undefined, null)).status).toBe(401);
  });

  it('keeps the map as a generic resource: admins edit it, duplicates and bad rows are refused, archived rows stop counting', async () => {
    const created = await stack.api('POST', '/api/symptom-map', { symptom: '  Night   Sweats ', speciality: 'Respiratory medicine', weight: 4 });
    expect(created).toMatchObject({ status: 201, body: { symptom: 'night sweats', speciality: 'Respiratory medicine', weight: 4, archivedAt: null } });
    const dup = await stack.api('POST', '/api/symptom-map', { symptom: 'night sweats', speciality: 'respiratory MEDICINE' });
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'ERR_DUPLICATE', message: expect.stringMatching(/already mapped to that speciality/) } } });
    expect((await stack.api('POST', '/api/symptom-map', { symptom: 'x', speciality: 'Y', weight: 11 })).body.error.message).toMatch(/^body\.weight: /);
    expect((await stack.api('POST', '/api/symptom-map', { symptom: '', speciality: 'Y' })).body.error.message).toMatch(/^body\.symptom: required/);
    expect((await stack.api('POST', '/api/symptom-map', { symptom: 'x', speciality: 'Y', extra: 1 })).status).toBe(400);
    for (const role of ['front-desk', 'doctor', 'patient']) {
      expect((await stack.api('POST', '/api/symptom-map', { symptom: 'x', speciality: 'Y' }, tokens[role])).status, role).toBe(403);
      expect((await stack.api('GET', '/api/symptom-map?symptom=night sweats', undefined, tokens[role])).body.items, role).toHaveLength(1);
    }
    expect((await stack.api('GET', '/api/symptom-map', undefined, tokens.lab)).status).toBe(403);

    // A heavier weight changes the ranking; an archived row no longer counts.
    const row = (await stack.api('GET', '/api/symptom-map?symptom=cough&speciality=Internal medicine')).body.items[0];
    expect((await suggest('symptoms=cough')).body.specialities.map((s: { speciality: string }) => s.speciality)).toEqual(['Respiratory medicine', 'Internal medicine']);
    expect((await stack.api('PUT', `/api/symptom-map/${row.id}`, { weight: 9 })).body.weight).toBe(9);
    expect((await suggest('symptoms=cough')).body.specialities.map((s: { speciality: string }) => s.speciality)).toEqual(['Internal medicine', 'Respiratory medicine']);
    expect((await stack.api('DELETE', `/api/symptom-map/${row.id}`)).status).toBe(200);
    expect((await suggest('symptoms=cough')).body.specialities.map((s: { speciality: string }) => s.speciality)).toEqual(['Respiratory medicine']);
    // … and its pair may then be mapped again.
    expect((await stack.api('POST', '/api/symptom-map', { symptom: 'cough', speciality: 'Internal medicine' })).status).toBe(201);
  });
});
