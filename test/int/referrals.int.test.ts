// Referrals on each database driver, through the real server: a doctor refers a patient to a
// doctor or to a speciality; the receiving side accepts or declines; an accepted referral is booked
// through POST /api/appointments with referralId (cancelling that appointment reopens it). Who sees
// which referral (the doctors concerned, the patient and family, the desk, admins; everyone else
// 404), every illegal move refused precisely, races settled by the database, every step audited.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { addDays, localNow } from '../../server/records/appointments.ts';

const ALL_WEEK = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '08:00', endTime: '18:00' }));
const PASSWORD = 'long-enough-password';

describe.each<DbKind>(['pglite', 'postgres'])('referrals on %s', (kind) => {
  let stack: Stack;
  /** Doctor accounts with their doctor records. */
  const dr: Record<'gp' | 'heart' | 'heart2' | 'skin', { token: string; id: string; name: string }> = {} as never;
  const tokens = { 'front-desk': '', nurse: '', ada: '', bob: '' };
  let unlinkedDoctor = '';
  /** Patients with their own accounts; `family` is linked to `ada`'s account. */
  let ada = '';
  let bob = '';
  let family = '';
  let slotDay = 0;
  const nextDay = () => addDays(localNow().date, 2 + slotDay++);

  const refer = (body: Record<string, unknown>, token = dr.gp.token) => stack.api('POST', '/api/referrals', { patientId: ada, reason: 'exertional chest pain', ...body }, token);
  const respond = (id: string, action: 'accept' | 'decline', token: string, body?: unknown) => stack.api('PUT', `/api/referrals/${id}/${action}`, body, token);
  const get = (id: string, token = stack.adminToken) => stack.api('GET', `/api/referrals/${id}`, undefined, token);
  const list = (query: string, token: string) => stack.api('GET', `/api/referrals?${query}`, undefined, token);
  const ids = (r: { body: { items: { id: string }[] } }) => r.body.items.map((x) => x.id);
  const book = (body: Record<string, unknown>, token = tokens['front-desk']) => stack.api('POST', '/api/appointments', { time: '09:00', date: nextDay(), ...body }, token);

  async function account(role: string, name = role): Promise<{ id: string; token: string }> {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name, password: PASSWORD, role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id, token: await stack.login(email, PASSWORD) };
  }
  async function patientAccount(name: string): Promise<{ patientId: string; token: string }> {
    const email = `patient-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name, password: PASSWORD }, null);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { patientId: r.body.patientId, token: await stack.login(email, PASSWORD) };
  }
  async function doctor(name: string, specialities: string[]) {
    const a = await account('doctor', name);
    const d = await stack.api('POST', '/api/doctors', { name, specialities, userId: a.id });
    expect(d.status).toBe(201);
    expect((await stack.api('PUT', `/api/doctors/${d.body.id}/schedule`, { shifts: ALL_WEEK })).status).toBe(200);
    return { token: a.token, id: d.body.id as string, name };
  }

  beforeAll(async () => {
    stack = await startStack(kind, kind === 'postgres' ? inject('pgUrl') : undefined);
    dr.gp = await doctor('Dr Gail General', ['Internal medicine']);
    dr.heart = await doctor('Dr Hal Heart', ['Cardiology']);
    dr.heart2 = await doctor('Dr Hana Heart', ['cardiology', 'Internal medicine']);
    dr.skin = await doctor('Dr Sam Skin', ['Dermatology']);
    unlinkedDoctor = (await account('doctor', 'Dr Nobody')).token;
    for (const role of ['front-desk', 'nurse'] as const) tokens[role] = (await account(role)).token;
    const a = await patientAccount('Ada Patient');
    ada = a.patientId;
    tokens.ada = a.token;
    const b = await patientAccount('Bob Patient');
    bob = b.patientId;
    tokens.bob = b.token;
    family = (await stack.api('POST', '/api/patients', { name: 'Fay Family' })).body.id;
    expect((await stack.api('POST', `/api/patients/${ada}/family`, { memberId: family, relation: 'child' })).status).toBe(201);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a doctor refers to another doctor, who sees it incoming; the referrer outgoing; an uninvolved doctor not at all', async () => {
    const r = await refer({ toDoctorId: dr.heart.id, urgency: 'urgent' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({
      patientId: ada,
      patientName: 'Ada Patient',
      fromDoctorId: dr.gp.id,
      fromDoctorName: 'Dr Gail General',
      toDoctorId: dr.heart.id,
      toDoctorName: 'Dr Hal Heart',
      toSpeciality: null,
      reason: 'exertional chest pain',
      urgency: 'urgent',
      status: 'pending',
      respondedBy: null,
      responseNote: null,
      respondedAt: null,
      appointmentId: null,
      bookedAt: null,
    });
    const id = r.body.id;
    expect(ids(await list('direction=incoming', dr.heart.token))).toContain(id);
    expect(ids(await list('direction=outgoing', dr.heart.token))).not.toContain(id);
    expect(ids(await list('direction=outgoing', dr.gp.token))).toContain(id);
    expect(ids(await list('direction=incoming', dr.gp.token))).not.toContain(id);
    expect(ids(await list('', dr.gp.token))).toContain(id);
    // Another doctor's referral: not listed, and 404 as if it did not exist.
    expect(ids(await list('', dr.skin.token))).not.toContain(id);
    expect(await get(id, dr.skin.token)).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND', message: `referral '${id}' not found` } } });
    expect(await respond(id, 'accept', dr.skin.token)).toMatchObject({ status: 404 });
    // A doctor account with no doctor record: nothing concerns it.
    expect((await list('', unlinkedDoctor)).body).toMatchObject({ items: [], total: 0 });
    expect((await get(id, unlinkedDoctor)).status).toBe(404);
    // The desk and admins see it.
    expect((await get(id, tokens['front-desk'])).body.id).toBe(id);
    expect((await get(id)).body.id).toBe(id);
  });

  it('refuses bad referrals precisely', async () => {
    const refusal = async (body: Record<string, unknown>, token = dr.gp.token) => {
      const r = await refer(body, token);
      return [r.status, r.body.error?.code, r.body.error?.message];
    };
    expect(await refusal({ toDoctorId: dr.heart.id, toSpeciality: 'Cardiology' })).toEqual([400, 'ERR_VALIDATION', 'body.toSpeciality: refer to a doctor (toDoctorId) or to a speciality (toSpeciality), not both']);
    expect(await refusal({})).toEqual([400, 'ERR_VALIDATION', 'body.toDoctorId: required: a doctor (toDoctorId) or a speciality (toSpeciality)']);
    expect(await refusal({ toDoctorId: dr.heart.id, urgency: 'asap' })).toEqual([400, 'ERR_VALIDATION', 'body.urgency: must be routine or urgent']);
    expect(await refusal({ toDoctorId: dr.heart.id, reason: '   ' })).toEqual([400, 'ERR_VALIDATION', 'body.reason: required']);
    expect((await refusal({ toDoctorId: dr.heart.id, reason: 'x'.repeat(1001) }))[2]).toMatch(/^body\.reason: /);
    expect(await refusal({ toDoctorId: dr.gp.id })).toEqual([400, 'ERR_VALIDATION', 'body.toDoctorId: a doctor cannot refer a patient to themself']);
    const ghost = randomUUID();
    expect(await refusal({ toDoctorId: ghost })).toEqual([400, 'ERR_VALIDATION', `body.toDoctorId: doctor '${ghost}' not found`]);
    expect(await refusal({ toDoctorId: dr.heart.id, patientId: ghost })).toEqual([400, 'ERR_VALIDATION', `body.patientId: patient '${ghost}' not found`]);
    expect(await refusal({ toSpeciality: 'Astrology' })).toEqual([400, 'ERR_VALIDATION', "body.toSpeciality: no doctor here offers 'Astrology' (offered: Cardiology, Dermatology, Internal medicine)"]);
    expect(await refusal({ toSpeciality: 'dermatology' }, dr.skin.token)).toEqual([400, 'ERR_VALIDATION', "body.toSpeciality: you are the only doctor here offering 'dermatology'"]);
    expect(await refusal({ toDoctorId: dr.heart.id, extra: true })).toEqual([400, 'ERR_VALIDATION', expect.stringMatching(/extra/)]);
    // Who may refer: a doctor, as the doctor record linked to its account.
    expect(await refusal({ toDoctorId: dr.heart.id }, unlinkedDoctor)).toEqual([403, 'ERR_FORBIDDEN', 'your account is not linked to a doctor record']);
    for (const [who, token] of [['admin', stack.adminToken], ['nurse', tokens.nurse], ['front-desk', tokens['front-desk']], ['patient', tokens.ada]] as const) {
      expect(await refusal({ toDoctorId: dr.heart.id }, token)).toEqual([403, 'ERR_FORBIDDEN', `role '${who}' lacks permission 'referrals:create'`]);
    }
    // An archived patient or doctor.
    const gone = (await stack.api('POST', '/api/patients', { name: 'Archived Patient' })).body.id;
    await stack.api('DELETE', `/api/patients/${gone}`);
    expect(await refusal({ toDoctorId: dr.heart.id, patientId: gone })).toEqual([409, 'ERR_ARCHIVED', `patient '${gone}' is archived`]);
  });

  it('a speciality referral: every doctor of it sees it, exactly one of two racing accepts wins, the referrer may not accept its own', async () => {
    const r = await refer({ toSpeciality: 'CARDIOLOGY' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ toDoctorId: null, toDoctorName: null, toSpeciality: 'Cardiology', urgency: 'routine' });
    const id = r.body.id;
    for (const d of [dr.heart, dr.heart2]) expect(ids(await list('direction=incoming&status=pending', d.token))).toContain(id);
    expect((await get(id, dr.skin.token)).status).toBe(404);

    const [a, b] = await Promise.all([respond(id, 'accept', dr.heart.token, { note: 'seen first' }), respond(id, 'accept', dr.heart2.token)]);
    const won = a.status === 200 ? dr.heart : dr.heart2;
    const lost = [a, b].find((x) => x.status !== 200)!;
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect(lost.body.error).toEqual({ code: 'ERR_ILLEGAL_TRANSITION', message: `cannot accept referral '${id}': it is already accepted by ${won.name}` });
    const after = await get(id);
    expect(after.body).toMatchObject({ status: 'accepted', respondedBy: won.id, respondedByName: won.name });
    expect(after.body.respondedAt).toBeTruthy();

    // A cardiologist refers to Cardiology: a colleague may take it, the referrer may not.
    const own = await refer({ toSpeciality: 'Cardiology' }, dr.heart.token);
    expect(own.status).toBe(201);
    expect(await respond(own.body.id, 'accept', dr.heart.token)).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN', message: 'a doctor may not accept their own referral' } } });
    // Only the receiving side responds: not the referrer, who sees it as outgoing …
    const toHeart = await refer({ toDoctorId: dr.heart.id });
    expect(await respond(toHeart.body.id, 'accept', dr.gp.token)).toMatchObject({ status: 403, body: { error: { message: 'a doctor may not accept their own referral' } } });
    // … nor a colleague of the same speciality when it was sent to one doctor by name: it does not concern them.
    const toHeart2 = await refer({ toDoctorId: dr.heart2.id });
    expect((await respond(toHeart2.body.id, 'accept', dr.heart.token)).status).toBe(404);
  });

  it('decline with a note; then no accept, no second decline, no booking', async () => {
    const id = (await refer({ toDoctorId: dr.heart.id })).body.id;
    const d = await respond(id, 'decline', dr.heart.token, { note: 'please try Respiratory first' });
    expect(d.status, JSON.stringify(d.body)).toBe(200);
    expect(d.body).toMatchObject({ status: 'declined', respondedBy: dr.heart.id, responseNote: 'please try Respiratory first' });
    const msg = `it was declined by ${dr.heart.name}`;
    expect((await respond(id, 'accept', dr.heart.token)).body.error).toEqual({ code: 'ERR_ILLEGAL_TRANSITION', message: `cannot accept referral '${id}': ${msg}` });
    expect((await respond(id, 'decline', dr.heart.token)).body.error).toEqual({ code: 'ERR_ILLEGAL_TRANSITION', message: `cannot decline referral '${id}': ${msg}` });
    const b = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id });
    expect(b).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION', message: `cannot book referral '${id}': ${msg}` } } });
    // Bad bodies.
    expect((await respond(id, 'decline', dr.heart.token, { note: '' })).body.error.message).toBe('body.note: required');
    expect((await respond(id, 'decline', dr.heart.token, { reason: 'x' })).status).toBe(400);
    expect((await stack.api('PUT', '/api/referrals/not-a-uuid/accept', undefined, dr.heart.token)).body.error.message).toMatch(/^params\.id: must be a UUID/);
  });

  it('a double accept is refused, naming who accepted', async () => {
    const id = (await refer({ toDoctorId: dr.heart.id })).body.id;
    expect((await respond(id, 'accept', dr.heart.token)).status).toBe(200);
    const again = await respond(id, 'accept', dr.heart.token);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION', message: `cannot accept referral '${id}': it is already accepted by ${dr.heart.name}` } } });
    expect((await respond(id, 'decline', dr.heart.token)).body.error.message).toBe(`cannot decline referral '${id}': it is already accepted by ${dr.heart.name}`);
  });

  it('books an accepted referral through the appointment booking, linking both; cancelling reopens it', async () => {
    const id = (await refer({ toDoctorId: dr.heart.id, urgency: 'urgent' })).body.id;
    const pending = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id });
    expect(pending.body.error).toEqual({ code: 'ERR_ILLEGAL_TRANSITION', message: `cannot book from referral '${id}': it is pending; Dr Hal Heart must accept it first` });
    expect((await respond(id, 'accept', dr.heart.token)).status).toBe(200);

    const wrongDoctor = await book({ patientId: ada, doctorId: dr.heart2.id, referralId: id });
    expect(wrongDoctor.body.error).toEqual({ code: 'ERR_VALIDATION', message: `body.doctorId: referral '${id}' is to be booked with Dr Hal Heart ('${dr.heart.id}'), who received it` });
    const wrongPatient = await book({ patientId: bob, doctorId: dr.heart.id, referralId: id });
    expect(wrongPatient.body.error).toEqual({ code: 'ERR_VALIDATION', message: `body.referralId: referral '${id}' not found for patient '${bob}'` });
    expect((await book({ patientId: ada, doctorId: dr.heart.id, referralId: 'nope' })).body.error.message).toBe('body.referralId: must be a UUID');
    expect((await get(id)).body.status).toBe('accepted');

    const date = nextDay();
    const booked = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id, date });
    expect(booked.status, JSON.stringify(booked.body)).toBe(201);
    // An urgent referral books an urgent appointment unless told otherwise.
    expect(booked.body).toMatchObject({ patientId: ada, doctorId: dr.heart.id, date, time: '09:00', priority: 'urgent', referralId: id });
    const r = (await get(id)).body;
    expect(r).toMatchObject({ status: 'booked', appointmentId: booked.body.id });
    expect(r.bookedAt).toBeTruthy();
    expect((await stack.api('GET', `/api/appointments/${booked.body.id}`)).body.referralId).toBe(id);

    const twice = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id });
    expect(twice.body.error).toEqual({ code: 'ERR_ILLEGAL_TRANSITION', message: `cannot book referral '${id}': it is already booked (appointment '${booked.body.id}')` });
    expect((await respond(id, 'decline', dr.heart.token)).body.error.message).toBe(`cannot decline referral '${id}': it is already booked (appointment '${booked.body.id}')`);

    // Cancelled: the referral is accepted again and may be booked anew; the old appointment keeps its referralId.
    const cancel = await stack.api('PUT', `/api/appointments/${booked.body.id}/cancel`, undefined, tokens['front-desk']);
    expect(cancel).toMatchObject({ status: 200, body: { status: 'cancelled', referralId: id } });
    expect((await get(id)).body).toMatchObject({ status: 'accepted', appointmentId: null, bookedAt: null });
    const rebooked = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id, priority: 'normal' });
    expect(rebooked).toMatchObject({ status: 201, body: { referralId: id, priority: 'normal' } });
    expect((await get(id)).body).toMatchObject({ status: 'booked', appointmentId: rebooked.body.id });
    // A booking's own checks still apply (a slot outside the schedule), and leave the referral as it was.
    const other = (await refer({ toDoctorId: dr.heart.id })).body.id;
    await respond(other, 'accept', dr.heart.token);
    expect((await book({ patientId: ada, doctorId: dr.heart.id, referralId: other, time: '19:00' })).body.error.code).toBe('ERR_NOT_BOOKABLE');
    expect((await get(other)).body.status).toBe('accepted');
  });

  it('a speciality referral is booked with the doctor who took it', async () => {
    const id = (await refer({ toSpeciality: 'Cardiology' })).body.id;
    expect((await respond(id, 'accept', dr.heart2.token)).status).toBe(200);
    const wrong = await book({ patientId: ada, doctorId: dr.heart.id, referralId: id });
    expect(wrong.body.error.message).toBe(`body.doctorId: referral '${id}' is to be booked with Dr Hana Heart ('${dr.heart2.id}'), who accepted it`);
    expect((await book({ patientId: ada, doctorId: dr.heart2.id, referralId: id })).status).toBe(201);
  });

  it('concurrent bookings of one referral: exactly one wins', async () => {
    const id = (await refer({ toDoctorId: dr.heart.id })).body.id;
    await respond(id, 'accept', dr.heart.token);
    const date = nextDay();
    const results = await Promise.all(['10:00', '10:15', '10:30', '10:45', '11:00'].map((time) => book({ patientId: ada, doctorId: dr.heart.id, referralId: id, date, time })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.body.error.code)).toEqual(Array(4).fill('ERR_ILLEGAL_TRANSITION'));
    const appointments = await stack.api('GET', `/api/appointments?doctorId=${dr.heart.id}&date=${date}`);
    expect(appointments.body.items.filter((a: { referralId: string }) => a.referralId === id)).toHaveLength(1);
  });

  it('the patient (and family) sees referrals about themselves; another patient gets 404', async () => {
    const own = (await refer({ toDoctorId: dr.skin.id, reason: 'itchy rash' })).body.id;
    const forFamily = (await refer({ toDoctorId: dr.skin.id, patientId: family, reason: 'eczema' })).body.id;
    const forBob = (await refer({ toDoctorId: dr.skin.id, patientId: bob, reason: 'mole check' })).body.id;

    const adaList = await list('limit=500', tokens.ada);
    expect(ids(adaList)).toEqual(expect.arrayContaining([own, forFamily]));
    expect(ids(adaList)).not.toContain(forBob);
    expect(adaList.body.items.every((r: { patientId: string }) => [ada, family].includes(r.patientId))).toBe(true);
    expect((await get(forFamily, tokens.ada)).body).toMatchObject({ id: forFamily, reason: 'eczema', toDoctorName: 'Dr Sam Skin' });
    expect(ids(await list(`patientId=${bob}`, tokens.ada))).toEqual([]);

    expect(ids(await list('', tokens.bob))).toEqual([forBob]);
    expect(await get(own, tokens.bob)).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND', message: `referral '${own}' not found` } } });
    expect((await get(forFamily, tokens.bob)).status).toBe(404);
    // A patient neither refers nor answers.
    expect(await respond(forBob, 'accept', tokens.bob)).toMatchObject({ status: 403, body: { error: { message: "role 'patient' lacks permission 'referrals:respond'" } } });
    // … but may book its own accepted referral — urgent too, since a clinician set the urgency.
    const urgent = (await refer({ toDoctorId: dr.skin.id, patientId: bob, urgency: 'urgent' })).body.id;
    await respond(urgent, 'accept', dr.skin.token);
    expect((await book({ patientId: bob, doctorId: dr.skin.id, referralId: urgent, priority: 'urgent' }, tokens.bob)).body.error.message).toBe('only staff may book an urgent appointment');
    const mine = await book({ patientId: bob, doctorId: dr.skin.id, referralId: urgent }, tokens.bob);
    expect(mine).toMatchObject({ status: 201, body: { priority: 'urgent', referralId: urgent } });
    // Not somebody else's: the same "not found" as a missing referral.
    const adaAccepted = (await refer({ toDoctorId: dr.skin.id })).body.id;
    await respond(adaAccepted, 'accept', dr.skin.token);
    expect((await book({ patientId: bob, doctorId: dr.skin.id, referralId: adaAccepted }, tokens.bob)).body.error.message).toBe(`body.referralId: referral '${adaAccepted}' not found for patient '${bob}'`);
    // A nurse holds no referrals permission.
    expect((await list('', tokens.nurse)).body.error.message).toBe("role 'nurse' lacks permission 'referrals:read'");
  });

  it('lists by direction, status and urgency; refuses what makes no sense', async () => {
    const a = (await refer({ toDoctorId: dr.heart2.id, urgency: 'urgent' })).body.id;
    const b = (await refer({ toDoctorId: dr.heart2.id })).body.id;
    await respond(b, 'accept', dr.heart2.token);
    expect(ids(await list('direction=incoming&status=pending&urgency=urgent', dr.heart2.token))).toContain(a);
    expect(ids(await list('direction=incoming&status=pending', dr.heart2.token))).not.toContain(b);
    expect(ids(await list('direction=incoming&status=accepted', dr.heart2.token))).toContain(b);
    // Newest first.
    const all = ids(await list('direction=outgoing&limit=500', dr.gp.token));
    expect(all.indexOf(b)).toBeLessThan(all.indexOf(a));
    // Admins and the desk name the doctor whose referrals they want.
    expect(ids(await list(`direction=incoming&doctorId=${dr.heart2.id}`, stack.adminToken))).toEqual(expect.arrayContaining([a, b]));
    expect(ids(await list(`direction=incoming&doctorId=${dr.heart2.id}&status=accepted`, tokens['front-desk']))).toContain(b);
    expect((await list('direction=incoming', stack.adminToken)).body.error).toEqual({
      code: 'ERR_VALIDATION',
      message: 'query.direction: name the doctor (query.doctorId) whose incoming or outgoing referrals to list',
    });
    const ghost = randomUUID();
    expect((await list(`doctorId=${ghost}`, stack.adminToken)).body.error.message).toBe(`query.doctorId: doctor '${ghost}' not found`);
    expect((await list(`doctorId=${dr.gp.id}`, dr.heart2.token)).body.error).toEqual({ code: 'ERR_FORBIDDEN', message: 'a doctor may only list the referrals that concern them (leave out doctorId)' });
    expect((await list('direction=sideways', dr.gp.token)).body.error.message).toBe('query.direction: must be incoming or outgoing');
    expect((await list('status=lost', dr.gp.token)).body.error.message).toBe('query.status: must be one of pending, accepted, declined, booked');
    expect((await list('limit=0', dr.gp.token)).status).toBe(400);
  });

  it('audits every read and change on the patient’s trail', async () => {
    const p = (await stack.api('POST', '/api/patients', { name: 'Audited Referral' })).body.id;
    const id = (await refer({ toDoctorId: dr.heart.id, patientId: p })).body.id;
    await get(id, dr.heart.token);
    await list(`patientId=${p}`, dr.heart.token);
    await respond(id, 'accept', dr.heart.token, { note: 'ok' });
    const appt = (await book({ patientId: p, doctorId: dr.heart.id, referralId: id })).body.id;
    await stack.api('PUT', `/api/appointments/${appt}/cancel`, undefined, tokens['front-desk']);
    const rows = await eventually(async () => {
      const r = await stack.api('GET', `/api/audit?patientId=${p}&limit=500`);
      const mine = r.body.items.filter((e: { resource: string }) => e.resource === 'referral');
      return mine.length >= 6 ? mine : null;
    }, 5000, 'referral audit rows');
    const actions = rows.map((e: { action: string; resourceId: string | null; actorRole: string }) => `${e.action}:${e.resourceId ?? '-'}:${e.actorRole}`);
    expect(actions).toEqual(
      expect.arrayContaining([`create:${id}:doctor`, `read:${id}:doctor`, `list:-:doctor`, `accept:${id}:doctor`, `book:${id}:front-desk`, `reopen:${id}:front-desk`]),
    );
  });
});
