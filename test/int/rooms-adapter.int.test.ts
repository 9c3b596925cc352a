// driver-independent: no database — two cluster nodes' Socket.IO layers (server/realtime/io.ts,
// each on its own HTTP server on port 0, as in realtime.int.test.ts) joined by the Redis Streams
// adapter (server/realtime/cluster-adapter.ts) on a real Debian redis-server, with real
// socket.io-client clients. NATS is not started: what it does in a cluster — hand every node every
// dashboard push and every revoked session — the test does by calling both nodes, as
// cluster/follow.ts would. ADR 0027.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import { createRealtime, createQueueChannel, type Realtime } from '../../server/realtime/io.ts';
import { createRoomsAdapter, type RoomsAdapter } from '../../server/realtime/cluster-adapter.ts';
import { createTokenService } from '../../server/auth/tokens.ts';
import type { Principal } from '../../server/domain/roles.ts';
import { PatientsCache } from '../../server/patients-cache.ts';
import { createLiveFeed } from '../../server/sinks.ts';
import { LiveState } from '../../server/realtime/live-state.ts';
import { DeviceRegistry } from '../../broker/device-registry.ts';
import type { Patient } from '../../db/records.ts';
import type { QueueCalledEvent, QueueState, ScoreEvent } from '../../server/domain/events.ts';
import { collect, connectSocket, eventually, type LiveSocket } from '../helpers/stack.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { freePort } from '../helpers/postgres.ts';

const P1 = '11111111-1111-4111-8111-111111111111';
const DOCTOR = 'dddddddd-dddd-4ddd-8ddd-dddddddddddd';
const SECRET = 'rooms-adapter-test-secret-0123456789abcdef0123456789';
const tokens = createTokenService(SECRET, '1h');

const patient: Patient = { id: P1, name: 'Ada One', ward: 'W1', bed: '1', spo2Scale: 1, alarmLimits: {} as Patient['alarmLimits'], createdAt: '2026-01-01T00:00:00.000Z', archivedAt: null };
const user = (n: number, role: Principal['role'] = 'nurse'): Principal => ({ id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, role, email: `u${n}@test.local`, name: `User ${n}` });
const call = (tokenNumber: number): QueueCalledEvent => ({ doctorId: DOCTOR, room: '4', date: '2026-01-15', tokenNumber, patientName: 'Ada O.', calledAt: '2026-01-15T09:00:00.000Z' });
const score = (total: number): ScoreEvent => ({ patientId: P1, ts: 1_768_467_600_000 + total, news2: { total } }) as unknown as ScoreEvent;

interface Node {
  name: string;
  http: HttpServer;
  base: string;
  rt: Realtime;
  rooms: RoomsAdapter;
  feed: ReturnType<typeof createLiveFeed>;
  queue: ReturnType<typeof createQueueChannel>;
  /** What cluster/follow.ts does on every node for a revoked session. */
  revoke(sids: string[]): void;
  log: { error: ReturnType<typeof vi.fn>; warn: ReturnType<typeof vi.fn>; info: ReturnType<typeof vi.fn>; debug: ReturnType<typeof vi.fn> };
}

const fakeLog = () => ({ error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() });

async function startNode(name: string, redisUrl: string): Promise<Node> {
  const log = fakeLog();
  const rooms = await createRoomsAdapter(redisUrl, log as unknown as Logger, { name });
  const patients = new PatientsCache();
  patients.load([patient]);
  const feed = createLiveFeed();
  const queue = createQueueChannel(async (doctorId): Promise<QueueState> => ({ doctorId, doctorName: 'Dr Q', room: '4', date: '2026-01-15', current: null, waiting: 0 }));
  const revokeListeners = new Set<(sids: string[]) => void>();
  const http = createServer();
  const rt = createRealtime(http, {
    adapter: rooms.adapter,
    queue,
    feed,
    revocations: { onRevoke: (l) => (revokeListeners.add(l), () => void revokeListeners.delete(l)) },
    tokens,
    patients,
    live: new LiveState(),
    registry: new DeviceRegistry(),
    log: log as unknown as Logger,
    audit: async () => undefined,
    wardScope: async () => null,
    actOnAlarm: async () => {
      throw new Error('not in this test');
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { name, http, base, rt, rooms, feed, queue, log, revoke: (sids) => revokeListeners.forEach((l) => l(sids)) };
}

async function stopNode(n: Node | undefined): Promise<void> {
  if (!n) return;
  await n.rt.close();
  await n.rooms.close();
  await new Promise<void>((resolve) => n.http.close(() => resolve()));
}

let redis: TestRedis;
let a: Node;
let b: Node;
const sockets: LiveSocket[] = [];

async function connect(node: Node, who: Principal, sid?: string): Promise<LiveSocket> {
  const s = await connectSocket(node.base, await tokens.sign(who, sid ? { sid } : undefined));
  sockets.push(s);
  return s;
}
const send = (s: LiveSocket, event: string, msg: unknown): Promise<any> => (s.timeout(5000) as any).emitWithAck(event, msg);
const disconnected = (s: LiveSocket) => new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));

/** Each node's adapter counts the other (their heartbeats crossed): room operations reach it. */
async function joined(): Promise<void> {
  await eventually(async () => (await a.rt.io.of('/').adapter.serverCount()) === 2 && (await b.rt.io.of('/').adapter.serverCount()) === 2, 15_000, 'both nodes to see each other');
}

beforeAll(async () => {
  redis = await startRedis();
  a = await startNode('A', redis.url);
  b = await startNode('B', redis.url);
  await joined();
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await stopNode(a);
  await stopNode(b);
  await redis?.stop();
});

describe('rooms across two nodes (Redis Streams adapter)', () => {
  it('a queue call made on node A reaches the displays on both nodes, once each', async () => {
    const onA = await connect(a, user(1, 'front-desk'));
    const onB = await connect(b, user(2, 'front-desk'));
    for (const s of [onA, onB]) expect(await send(s, 'subscribe', { queue: DOCTOR })).toMatchObject({ ok: true, data: { room: `queue:${DOCTOR}` } });
    const gotA = collect(onA, 'queue:called');
    const gotB = collect(onB, 'queue:called');
    a.queue.publish(call(7));
    await eventually(() => gotB.length > 0, 5000, 'the call on node B');
    // A second call after it: once it is in, a duplicate of the first would have been too.
    a.queue.publish(call(8));
    await eventually(() => gotA.length >= 2 && gotB.length >= 2, 5000, 'the second call on both nodes');
    expect(gotA.map((e) => e.tokenNumber)).toEqual([7, 8]);
    expect(gotB.map((e) => e.tokenNumber)).toEqual([7, 8]);
  });

  it("disconnectUser on node A ends that account's sockets on node B too, and counts A's own", async () => {
    const target = user(10);
    const other = user(11);
    const targetOnA = await connect(a, target);
    const targetOnB = await connect(b, target);
    const otherOnB = await connect(b, other);
    const endedA = disconnected(targetOnA);
    const endedB = disconnected(targetOnB);
    expect(a.rt.disconnectUser(target.id)).toBe(1);
    // Closed by the server ("io server disconnect"): the dashboard reconnects and subscribes again.
    expect(await endedA).toBe('io server disconnect');
    expect(await endedB).toBe('io server disconnect');
    expect(otherOnB.connected).toBe(true);
    expect(a.rt.disconnectUser(user(12).id)).toBe(0);
  });

  it('a dashboard push that every node is given (as over NATS) reaches a client once, not once per node', async () => {
    const onA = await connect(a, user(20));
    const onB = await connect(b, user(21));
    const marker = await connect(a, user(22, 'front-desk'));
    for (const s of [onA, onB]) expect((await send(s, 'subscribe', { ward: 'W1' })).ok).toBe(true);
    expect((await send(marker, 'subscribe', { queue: DOCTOR })).ok).toBe(true);
    const scoresA = collect(onA, 'score');
    const scoresB = collect(onB, 'score');
    const calls = collect(marker, 'queue:called');
    // The NATS replication gives each node's feed the push; each node emits it to its own sockets.
    a.feed.pushScore(score(5));
    b.feed.pushScore(score(5));
    // Then a room operation from node B through the adapter's stream: it reaches node A after
    // anything B published before it, so a copy of the score sent through the adapter would be in.
    b.queue.publish(call(9));
    await eventually(() => calls.length > 0 && scoresB.length > 0, 5000, 'the marker call on node A');
    expect(scoresA).toEqual([score(5)]);
    expect(scoresB).toEqual([score(5)]);
  });

  it("a revoked session's sockets end on each node that hears of it; the account's other sessions stay", async () => {
    const who = user(30);
    const sid = '5e5e5e5e-0000-4000-8000-000000000001';
    const revokedOnA = await connect(a, who, sid);
    const revokedOnB = await connect(b, who, sid);
    const otherSession = await connect(b, who, '5e5e5e5e-0000-4000-8000-000000000002');
    const ended = [disconnected(revokedOnA), disconnected(revokedOnB)];
    a.revoke([sid]);
    b.revoke([sid]);
    expect(await Promise.all(ended)).toEqual(['io server disconnect', 'io server disconnect']);
    // An empty list ends nothing (no room at all would mean every socket).
    a.revoke([]);
    b.revoke([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(otherSession.connected).toBe(true);
  });
});

describe('a connection to Redis lost for a moment', () => {
  it('the node reads on from where it stopped: a call published meanwhile still reaches its displays', async () => {
    const display = await connect(b, user(60, 'front-desk'));
    expect((await send(display, 'subscribe', { queue: DOCTOR })).ok).toBe(true);
    const got = collect(display, 'queue:called');
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      // Redis itself cuts every connection of node B (named after it: publisher, stream reader,
      // subscriber), and keeps it out: no connection beyond those open now.
      const clients = await admin.clientList();
      const ofB = clients.filter((c) => c.name === 'wardpulse:B');
      expect(ofB).toHaveLength(3);
      await admin.configSet('maxclients', String(clients.length - ofB.length));
      for (const c of ofB) await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(c.id)]);
      a.queue.publish(call(13));
      await new Promise((r) => setTimeout(r, 500));
      expect(b.rooms.connected()).toBe(false);
      expect(got).toEqual([]);
      await admin.configSet('maxclients', '10000');
      await eventually(() => got.length > 0, 10_000, 'the call on node B after it reconnected');
      expect(got.map((e) => e.tokenNumber)).toEqual([13]);
      await eventually(() => b.rooms.connected(), 5000, 'node B to reconnect');
    } finally {
      await admin.configSet('maxclients', '10000').catch(() => undefined);
      await admin.quit();
    }
  });
});

describe('Redis down', () => {
  it('at start: a clear error within the deadline, naming the setting, without the password', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await createRoomsAdapter(`redis://:s3cret-pw@127.0.0.1:${port}`, fakeLog() as unknown as Logger, { startDeadlineMs: 1000 }).catch((e: Error) => e);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`^cannot connect to Redis at redis://127\\.0\\.0\\.1:${port} \\(CLUSTER_REDIS_URL\\): .*ECONNREFUSED`));
    expect((err as Error).message).not.toContain('s3cret-pw');
  });

  it("later: the nodes keep serving their own sockets, log it once, and join again when it is back", async () => {
    const displayA = await connect(a, user(40, 'front-desk'));
    const displayB = await connect(b, user(41, 'front-desk'));
    for (const s of [displayA, displayB]) expect((await send(s, 'subscribe', { queue: DOCTOR })).ok).toBe(true);
    const gotA = collect(displayA, 'queue:called');
    const gotB = collect(displayB, 'queue:called');

    await redis.stop();
    await eventually(() => !a.rooms.connected() && !b.rooms.connected(), 5000, 'both nodes to see Redis gone');
    // A call on node A still reaches node A's display, at once (not held until Redis is back).
    a.queue.publish(call(11));
    await eventually(() => gotA.length === 1, 3000, "the call on node A's own display");
    const user50 = user(50);
    const here = await connect(a, user50);
    const ended = disconnected(here);
    expect(a.rt.disconnectUser(user50.id)).toBe(1);
    expect(await ended).toBe('io server disconnect');
    expect(displayA.connected && displayB.connected).toBe(true);
    // Told once per outage, not once per reconnection attempt.
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.log.warn.mock.calls.filter(([o]) => o?.event === 'redis_down')).toHaveLength(1);

    await redis.start();
    await eventually(() => a.rooms.connected() && b.rooms.connected(), 10_000, 'both nodes to reconnect');
    expect(a.log.info.mock.calls.some(([o]) => o?.event === 'redis_up')).toBe(true);
    await joined();
    a.queue.publish(call(12));
    await eventually(() => gotB.some((e) => e.tokenNumber === 12), 10_000, 'a call from A on B after Redis came back');
    expect(gotA.map((e) => e.tokenNumber)).toEqual([11, 12]);
    // The call made while Redis was down never reached B (at most once across an outage of Redis itself).
    expect(gotB.map((e) => e.tokenNumber)).toEqual([12]);
  });
});
