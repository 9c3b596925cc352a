// driver-independent: no database — the Socket.IO layer (server/realtime/io.ts) on a real HTTP
// server on port 0 with real socket.io-client clients, its context made of small fakes (tokens,
// patients cache, live state and device registry are the real in-memory classes; alarms, audit,
// ward scope and the queue are stand-ins). Every client message is validated — a bad one gets
// `{ ok: false, error }` naming the field, never a throw, never a dropped connection — and every
// role gets exactly what the permission table and the ward scope allow.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import { createRealtime, createQueueChannel, type Realtime } from '../../server/realtime/io.ts';
import { createTokenService } from '../../server/auth/tokens.ts';
import type { Principal, Role } from '../../server/domain/roles.ts';
import { PatientsCache } from '../../server/patients-cache.ts';
import { createLiveFeed } from '../../server/sinks.ts';
import { LiveState } from '../../server/realtime/live-state.ts';
import { DeviceRegistry } from '../../broker/device-registry.ts';
import { Errors } from '../../server/errors.ts';
import type { AuditEntry, Patient } from '../../db/records.ts';
import type { AlertEvent, QueueState } from '../../server/domain/events.ts';
import type { Actor, AlarmAction } from '../../server/domain/alarms.ts';
import { connectSocket, type LiveSocket } from '../helpers/stack.ts';

const ROLES: Role[] = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'patient', 'kiosk'];
// The policy, written out here rather than read from server/auth/permissions.ts: the test is the
// second opinion. Live data: clinicians, the admin and a ward-bound kiosk; alarm actions: the
// clinicians at the bedside only; a queue display: any signed-in role.
const MAY_WATCH: Role[] = ['admin', 'doctor', 'nurse', 'kiosk'];
const MAY_ACT: Role[] = ['doctor', 'nurse'];

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333';
const NOBODY = '99999999-9999-4999-8999-999999999999';
const DOCTOR_ID = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const ALARM = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const ALARM_CRASHES = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

const patient = (id: string, name: string, ward: string | null, bed: string | null): Patient => ({
  id,
  name,
  ward,
  bed,
  spo2Scale: 1,
  alarmLimits: {} as Patient['alarmLimits'],
  createdAt: '2026-01-01T00:00:00.000Z',
  archivedAt: null,
});

const SECRET = 'realtime-test-secret-0123456789abcdef0123456789';
const tokens = createTokenService(SECRET, '1h');
const userOf = (role: Role, n = 0): Principal => ({
  id: `0000000${ROLES.indexOf(role)}-0000-4000-8000-${String(n).padStart(12, '0')}`,
  role,
  email: `${role}${n}@test.local`,
  name: `${role} ${n}`,
});

let http: HttpServer;
let rt: Realtime;
let base: string;
const audit: AuditEntry[] = [];
const acted: { id: string; action: AlarmAction; actor: Actor; comment: string | null }[] = [];
const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
const queue = createQueueChannel(async (doctorId: string): Promise<QueueState> => ({ doctorId, doctorName: 'Dr Q', room: '4', date: '2026-01-15', current: null, waiting: 2 }));
/** Wards of each kiosk account, by user id (absent: bound to none). */
const kioskWards = new Map<string, string[]>();
const sockets: LiveSocket[] = [];

async function connectAs(user: Principal): Promise<LiveSocket> {
  const s = await connectSocket(base, await tokens.sign(user));
  sockets.push(s);
  return s;
}

/** Any message, well-formed or not, with an acknowledgement (a missing ack fails the test in 5 s). */
function send(s: LiveSocket, event: string, msg: unknown): Promise<any> {
  return (s.timeout(5000) as any).emitWithAck(event, msg);
}

beforeAll(async () => {
  const patients = new PatientsCache();
  patients.load([patient(P1, 'Ada One', 'W1', '1'), patient(P2, 'Bo Two', 'W1', '2'), patient(P3, 'Cy Three', 'W2', '1')]);
  const registry = new DeviceRegistry();
  registry.load([{ id: 'mon-1', secretHash: 'sha256$x$y', patientId: P1 }]);
  http = createServer();
  rt = createRealtime(http, {
    queue,
    feed: createLiveFeed(),
    revocations: { onRevoke: () => () => undefined },
    tokens,
    patients,
    live: new LiveState(),
    registry,
    log: log as unknown as Logger,
    audit: async (e) => void audit.push(e),
    wardScope: async (user) => (user.role === 'kiosk' ? (kioskWards.get(user.id) ?? []) : null),
    async actOnAlarm(id, action, actor, comment) {
      if (id === ALARM_CRASHES) throw new Error('engine exploded: patient Ada One, bed 1');
      if (id !== ALARM) throw Errors.notFound('alarm', id);
      acted.push({ id, action, actor, comment });
      return { id, patientId: P1, state: action === 'resolve' ? 'resolved' : 'acknowledged' } as unknown as AlertEvent;
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await rt?.close();
  await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
});

beforeEach(() => {
  audit.length = 0;
  acted.length = 0;
  log.error.mockClear();
});

describe('connection', () => {
  it.each([
    ['no token', undefined],
    ['a malformed token', 'not-a-token'],
  ])('refuses %s', async (_what, token) => {
    await expect(connectSocket(base, token)).rejects.toThrow(/unauthorized: a valid token is required/);
  });

  it('refuses a token signed with another key', async () => {
    const forged = await createTokenService('another-key-0123456789abcdef0123456789', '1h').sign(userOf('admin'));
    await expect(connectSocket(base, forged)).rejects.toThrow(/unauthorized/);
  });

  it.each(ROLES)('lets a %s connect (every role may watch a queue display)', async (role) => {
    const s = await connectAs(userOf(role));
    expect(s.connected).toBe(true);
  });
});

describe('subscribe: validation', () => {
  let s: LiveSocket;
  beforeAll(async () => {
    s = await connectAs(userOf('nurse', 1));
  });

  // Messages whose shape matches one form name the field and what is wrong with it.
  it.each([
    [{ ward: '' }, 'message.ward: Too small: expected string to have >=1 characters'],
    [{ ward: 'W'.repeat(65) }, 'message.ward: Too big: expected string to have <=64 characters'],
    [{ patientId: 'bed-1' }, 'message.patientId: must be a UUID'],
    [{ queue: 'dr-who' }, 'message.queue: must be a doctor id (UUID)'],
    [{ ward: 'W1', extra: 1 }, 'message: Unrecognized key: "extra"'],
    [{ ward: 'W1\u0000' }, 'message.ward: must not contain NUL (\\u0000) characters'],
    [{ patientId: P1, ['x\u0000']: 1 }, 'message."x\\u0000": must not contain NUL (\\u0000) characters'],
  ])('refuses %j: %s', async (msg, message) => {
    expect(await send(s, 'subscribe', msg)).toEqual({ ok: false, error: { code: 'ERR_VALIDATION', message } });
  });

  // Messages that match no form at all. The reason zod gives a union is only "Invalid input"
  // (reported: the schema in io.ts could name the three accepted forms); the test pins the code
  // and that it is the message that is wrong.
  it.each([undefined, null, 'W1', 42, true, [], [{ ward: 'W1' }], {}, { ward: 5 }, { ward: 'W1', patientId: P1 }, { queue: DOCTOR_ID, ward: 'W1' }])(
    'refuses %j as an invalid message',
    async (msg) => {
      expect(await send(s, 'subscribe', msg)).toEqual({ ok: false, error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/^message(\.\w+)?: \S/) } });
    },
  );

  it('refuses an unknown patient by its id', async () => {
    expect(await send(s, 'subscribe', { patientId: NOBODY })).toEqual({ ok: false, error: { code: 'ERR_NOT_FOUND', message: `patient '${NOBODY}' not found` } });
  });

  it('joins nothing and audits nothing for a refused message; the connection stays up and serves', async () => {
    await send(s, 'subscribe', { ward: 5 });
    await send(s, 'subscribe', { patientId: NOBODY });
    expect(audit).toEqual([]);
    expect(s.connected).toBe(true);
    expect((await send(s, 'subscribe', { ward: 'W1' })).ok).toBe(true);
  });

  it('survives messages sent without an acknowledgement, or with data where the ack should be', async () => {
    const raw = s as any;
    raw.emit('subscribe', { ward: 5 });
    raw.emit('subscribe', { ward: 'W2' });
    raw.emit('subscribe', { ward: 'W2' }, 'not-a-callback');
    raw.emit('alarm:ack', { id: 'x' });
    raw.emit('unsubscribe', 42);
    raw.emit('no-such-event', { ward: 'W1' });
    expect(await send(s, 'subscribe', { patientId: P3 })).toMatchObject({ ok: true, data: { room: `patient:${P3}` } });
    expect(s.connected).toBe(true);
  });
});

describe('subscribe: what a success carries', () => {
  it('a ward: its room, its patients (live view only) and the freshness windows; audited', async () => {
    const user = userOf('doctor', 1);
    const s = await connectAs(user);
    const ack = await send(s, 'subscribe', { ward: 'W1' });
    expect(ack.ok).toBe(true);
    expect(ack.data.room).toBe('ward:W1');
    expect(ack.data.freshness).toEqual(expect.objectContaining({ deviceMs: expect.any(Number) }));
    expect(ack.data.patients.map((p: any) => [p.patientId, p.name, p.ward, p.bed])).toEqual([
      [P1, 'Ada One', 'W1', '1'],
      [P2, 'Bo Two', 'W1', '2'],
    ]);
    expect(ack.data.patients[0].devices).toEqual([{ id: 'mon-1', status: 'unknown' }]);
    for (const p of ack.data.patients) expect(Object.keys(p)).not.toEqual(expect.arrayContaining(['alarmLimits', 'createdAt']));
    expect(audit).toEqual([expect.objectContaining({ actorId: user.id, actorRole: 'doctor', action: 'subscribe', resource: 'live', resourceId: 'ward:W1', patientId: null, details: { patients: 2 } })]);
  });

  it('a patient: its room and its snapshot; audited against the patient', async () => {
    const s = await connectAs(userOf('nurse', 2));
    const ack = await send(s, 'subscribe', { patientId: P3 });
    expect(ack).toMatchObject({ ok: true, data: { room: `patient:${P3}`, patients: [{ patientId: P3, name: 'Cy Three', ward: 'W2', bed: '1' }] } });
    expect(audit).toEqual([expect.objectContaining({ resourceId: `patient:${P3}`, patientId: P3 })]);
  });

  it('an empty or unknown ward is a valid subscription with no patients', async () => {
    const s = await connectAs(userOf('nurse', 3));
    expect(await send(s, 'subscribe', { ward: 'NOWHERE' })).toMatchObject({ ok: true, data: { room: 'ward:NOWHERE', patients: [] } });
  });

  it('pushes reach the rooms subscribed to and no other', async () => {
    const ward = await connectAs(userOf('nurse', 4));
    const other = await connectAs(userOf('nurse', 5));
    await send(ward, 'subscribe', { ward: 'W1' });
    await send(other, 'subscribe', { ward: 'W2' });
    const got: { ward: unknown[]; other: unknown[] } = { ward: [], other: [] };
    ward.on('alert', (a) => got.ward.push(a));
    other.on('alert', (a) => got.other.push(a));
    rt.pushAlert({ id: ALARM, patientId: P2 } as AlertEvent);
    await vi.waitFor(() => expect(got.ward).toHaveLength(1));
    // A push to W2 after it, received: the first one had its chance to arrive and did not.
    rt.pushAlert({ id: ALARM, patientId: P3 } as AlertEvent);
    await vi.waitFor(() => expect(got.other).toHaveLength(1));
    expect(got.other).toEqual([{ id: ALARM, patientId: P3 }]);
    expect(got.ward).toHaveLength(1);
  });
});

describe('subscribe: permissions per role', () => {
  it.each(ROLES)('%s: live data only if the table allows it', async (role) => {
    const user = userOf(role, 10);
    kioskWards.set(user.id, ['W1']);
    const s = await connectAs(user);
    const ack = await send(s, 'subscribe', { ward: 'W1' });
    if (MAY_WATCH.includes(role)) {
      expect(ack).toMatchObject({ ok: true, data: { room: 'ward:W1' } });
    } else {
      expect(ack).toEqual({ ok: false, error: { code: 'ERR_FORBIDDEN', message: `role '${role}' lacks permission 'live:subscribe'` } });
      expect(await send(s, 'subscribe', { patientId: P1 })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
      expect(audit).toEqual([]);
    }
  });

  it.each(ROLES)('%s: may watch a queue display', async (role) => {
    const s = await connectAs(userOf(role, 11));
    expect(await send(s, 'subscribe', { queue: DOCTOR_ID })).toEqual({
      ok: true,
      data: { room: `queue:${DOCTOR_ID}`, patients: [], queue: expect.objectContaining({ doctorId: DOCTOR_ID, waiting: 2 }) },
    });
    expect(audit).toEqual([expect.objectContaining({ actorRole: role, action: 'subscribe', resource: 'queue', resourceId: `queue:${DOCTOR_ID}`, patientId: null })]);
  });

  it('a kiosk sees its own wards only, and only as whole wards', async () => {
    const kiosk = userOf('kiosk', 12);
    kioskWards.set(kiosk.id, ['W1']);
    const s = await connectAs(kiosk);
    expect((await send(s, 'subscribe', { ward: 'W1' })).ok).toBe(true);
    expect(await send(s, 'subscribe', { ward: 'W2' })).toEqual({
      ok: false,
      error: { code: 'ERR_FORBIDDEN', message: "a kiosk may only see the patients of its ward 'W1': not ward 'W2'" },
    });
    // Not even a patient of its own ward by id: that room would follow the patient off the ward.
    expect(await send(s, 'subscribe', { patientId: P1 })).toEqual({
      ok: false,
      error: { code: 'ERR_FORBIDDEN', message: 'a kiosk may only watch its own wards as a whole: subscribe to { ward }, not { patientId }' },
    });
  });

  it('a kiosk bound to no ward sees no ward, and is told how that is fixed', async () => {
    const s = await connectAs(userOf('kiosk', 13));
    expect(await send(s, 'subscribe', { ward: 'W1' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN', message: expect.stringMatching(/bound to no ward.*PUT \/api\/users\/.*\/wards/) } });
  });

  it('the ward scope is asked on every subscription: a changed binding applies to the next one', async () => {
    const kiosk = userOf('kiosk', 14);
    kioskWards.set(kiosk.id, ['W1']);
    const s = await connectAs(kiosk);
    expect((await send(s, 'subscribe', { ward: 'W2' })).ok).toBe(false);
    kioskWards.set(kiosk.id, ['W2']);
    expect((await send(s, 'subscribe', { ward: 'W2' })).ok).toBe(true);
    expect((await send(s, 'subscribe', { ward: 'W1' })).ok).toBe(false);
  });

});

describe('alarm actions', () => {
  let nurse: LiveSocket;
  const nurseUser = userOf('nurse', 20);
  beforeAll(async () => {
    nurse = await connectAs(nurseUser);
  });

  it.each(['ack', 'silence', 'resolve'] as const)('alarm:%s acts as the caller, audits, and answers with the alarm', async (action) => {
    const ack = await send(nurse, `alarm:${action}`, { id: ALARM, comment: '  doctor called  ' });
    expect(ack).toEqual({ ok: true, data: expect.objectContaining({ id: ALARM, patientId: P1 }) });
    expect(acted).toEqual([{ id: ALARM, action, actor: { id: nurseUser.id, role: 'nurse' }, comment: 'doctor called' }]);
    expect(audit).toEqual([
      expect.objectContaining({ actorId: nurseUser.id, actorRole: 'nurse', action, resource: 'alert', resourceId: ALARM, patientId: P1, details: { comment: 'doctor called' } }),
    ]);
  });

  it('a comment is optional', async () => {
    expect((await send(nurse, 'alarm:ack', { id: ALARM })).ok).toBe(true);
    expect(acted[0]!.comment).toBeNull();
    expect(audit[0]!.details).toBeUndefined();
  });

  it.each([
    // (undefined travels as null: the wire is JSON.)
    [null, 'message: Invalid input: expected object, received null'],
    [ALARM, 'message: Invalid input: expected object, received string'],
    [{}, 'message.id: must be a UUID'],
    [{ id: 'alarm-1' }, 'message.id: must be a UUID'],
    [{ id: ALARM, extra: true }, 'message: Unrecognized key: "extra"'],
    [{ id: ALARM, comment: 5 }, 'message.comment: Invalid input: expected string, received number'],
    [{ id: ALARM, comment: 'x'.repeat(1001) }, 'message.comment: Too big: expected string to have <=1000 characters'],
    [{ id: ALARM, comment: 'ok\u0000' }, 'message.comment: must not contain NUL (\\u0000) characters'],
  ])('refuses %j: %s — and acts on nothing', async (msg, message) => {
    for (const action of ['ack', 'silence', 'resolve']) {
      expect(await send(nurse, `alarm:${action}`, msg)).toEqual({ ok: false, error: { code: 'ERR_VALIDATION', message } });
    }
    expect(acted).toEqual([]);
    expect(audit).toEqual([]);
  });

  it('an unknown alarm: the not-found of the alarm engine, nothing audited', async () => {
    expect(await send(nurse, 'alarm:ack', { id: NOBODY })).toEqual({ ok: false, error: { code: 'ERR_NOT_FOUND', message: `alarm '${NOBODY}' not found` } });
    expect(audit).toEqual([]);
  });

  it('an unexpected failure: logged, answered ERR_INTERNAL without its message; the connection stays up', async () => {
    expect(await send(nurse, 'alarm:silence', { id: ALARM_CRASHES })).toEqual({ ok: false, error: { code: 'ERR_INTERNAL', message: 'internal error' } });
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(nurse.connected).toBe(true);
    expect((await send(nurse, 'alarm:ack', { id: ALARM })).ok).toBe(true);
  });

  it.each(ROLES)('%s: may act on an alarm only if the table allows it', async (role) => {
    const user = userOf(role, 21);
    kioskWards.set(user.id, ['W1']);
    const s = await connectAs(user);
    for (const action of ['ack', 'silence', 'resolve']) {
      const ack = await send(s, `alarm:${action}`, { id: ALARM });
      if (MAY_ACT.includes(role)) expect(ack.ok).toBe(true);
      else expect(ack).toEqual({ ok: false, error: { code: 'ERR_FORBIDDEN', message: `role '${role}' lacks permission 'alarms:act'` } });
    }
    expect(acted).toHaveLength(MAY_ACT.includes(role) ? 3 : 0);
    expect(audit).toHaveLength(MAY_ACT.includes(role) ? 3 : 0);
  });

  it('permission comes before validation: a role that may not act learns nothing about the message', async () => {
    const s = await connectAs(userOf('kiosk', 22));
    expect(await send(s, 'alarm:ack', { id: 'junk', extra: 1 })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
  });
});

describe('unsubscribe', () => {
  it('leaves a room, and stops its pushes', async () => {
    const s = await connectAs(userOf('nurse', 30));
    await send(s, 'subscribe', { patientId: P2 });
    const got: unknown[] = [];
    s.on('score', (e) => got.push(e));
    expect(await send(s, 'unsubscribe', { patientId: P2 })).toEqual({ ok: true, data: { room: `patient:${P2}` } });
    rt.pushScore({ patientId: P2, ts: 1, news2: null } as never);
    // A later push to a room it holds does arrive, so the first one, had it been sent, would have too.
    await send(s, 'subscribe', { ward: 'W2' });
    rt.pushScore({ patientId: P3, ts: 2, news2: null } as never);
    await vi.waitFor(() => expect(got).toHaveLength(1));
    expect(got).toEqual([expect.objectContaining({ patientId: P3 })]);
  });

  it('leaves a patient no longer in the cache (no lookup), a ward, a queue', async () => {
    const s = await connectAs(userOf('nurse', 31));
    expect(await send(s, 'unsubscribe', { patientId: NOBODY })).toEqual({ ok: true, data: { room: `patient:${NOBODY}` } });
    expect(await send(s, 'unsubscribe', { ward: 'W1' })).toEqual({ ok: true, data: { room: 'ward:W1' } });
    expect(await send(s, 'unsubscribe', { queue: DOCTOR_ID })).toEqual({ ok: true, data: { room: `queue:${DOCTOR_ID}` } });
  });

  it.each([
    [{ ward: '' }, 'message.ward: Too small: expected string to have >=1 characters'],
    [{ patientId: 'x' }, 'message.patientId: must be a UUID'],
    [{ ward: 'W1', more: 1 }, 'message: Unrecognized key: "more"'],
  ])('refuses %j: %s', async (msg, message) => {
    const s = await connectAs(userOf('nurse', 32));
    expect(await send(s, 'unsubscribe', msg)).toEqual({ ok: false, error: { code: 'ERR_VALIDATION', message } });
  });

  it.each([undefined, 7, {}])('refuses %j as an invalid message', async (msg) => {
    const s = await connectAs(userOf('nurse', 33));
    expect(await send(s, 'unsubscribe', msg)).toMatchObject({ ok: false, error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/^message: /) } });
  });
});

describe('disconnectUser', () => {
  it("ends every connection of one account and no other's", async () => {
    const target = userOf('nurse', 40);
    const a = await connectAs(target);
    const b = await connectAs(target);
    const other = await connectAs(userOf('nurse', 41));
    expect(rt.disconnectUser(target.id)).toBe(2);
    await vi.waitFor(() => expect(a.connected || b.connected).toBe(false));
    expect(other.connected).toBe(true);
  });
});
