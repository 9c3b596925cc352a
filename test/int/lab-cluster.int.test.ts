// Cluster mode (ADR 0026) for a critical lab result: two WardPulse nodes in this process on one
// PostgreSQL, a real Debian nats-server (JetStream) and redis-server. The results PUT goes to the
// node that does NOT process the patient's partition: the alarm travels as a 'lab-critical'
// MonitorMessage through the ingest log to the partition's owner, whose engine raises it; both
// nodes' REST and a display connected to either see it; a nurse on the other node acknowledges it
// (the action crosses to the owner). PostgreSQL only: a cluster cannot run on the embedded database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { partitionOf } from '../../server/cluster/partitions.ts';
import type { AlertEvent } from '../../server/domain/events.ts';
import { ADMIN, collect, connectSocket, eventually, type LiveSocket } from '../helpers/stack.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startNats, type TestNats } from '../helpers/nats.ts';

const PARTITIONS = 8;

interface Node {
  server: RunningServer;
  base: string;
  dataDir: string;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
}

describe('a critical lab result in cluster mode', () => {
  let nats: TestNats;
  let redis: TestRedis;
  let database: { url: string; drop(): Promise<void> };
  const nodes: Node[] = [];
  const sockets: LiveSocket[] = [];
  let adminToken = '';

  const startNode = async (name: string): Promise<Node> => {
    const dataDir = mkdtempSync(join(tmpdir(), `wardpulse-lab-${name}-`));
    const server = await startServer(
      loadConfig({
        HTTP_PORT: '0',
        MQTT_PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        WRITE_FLUSH_MS: '20',
        LIVE_TICK_MS: '50',
        MQTT_ADMIT_MAX_LAG_MS: '0',
        DATABASE_URL: database.url,
        JWT_SECRET: 'a-shared-token-key-of-32-characters-or-more',
        CLUSTER_NATS_URL: `nats://127.0.0.1:${nats.port}`,
        CLUSTER_REDIS_URL: redis.url,
        CLUSTER_NODE_ID: name,
        CLUSTER_PARTITIONS: String(PARTITIONS),
        CLUSTER_REPLICAS: '1',
        CLUSTER_LEASE_S: '2',
      }),
    );
    const base = `http://127.0.0.1:${server.httpPort}`;
    return {
      server,
      base,
      dataDir,
      async api(method, path, body, token = adminToken) {
        const res = await fetch(base + path, {
          method,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), authorization: `Bearer ${token}` },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      },
    };
  };

  beforeAll(async () => {
    nats = await startNats();
    redis = await startRedis();
    database = await createTestDatabase(inject('pgUrl'));
    // One after the other: the first migrates the database and creates the admin.
    nodes.push(await startNode('lab-a'));
    nodes.push(await startNode('lab-b'));
    const login = await fetch(`${nodes[0]!.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    adminToken = ((await login.json()) as { token: string }).token;
    // Every partition held by exactly one of the two nodes, each knowing the other.
    await eventually(async () => {
      const status = await Promise.all(nodes.map((n) => n.api('GET', '/api/cluster')));
      const owned = status.flatMap((s) => s.body.owned as number[]);
      return owned.length === PARTITIONS && new Set(owned).size === PARTITIONS && status.every((s) => s.body.peers.length === 2);
    }, 60_000, 'the partitions settled over both nodes');
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes.reverse()) {
      await n.server.close();
      rmSync(n.dataDir, { recursive: true, force: true });
    }
    await redis?.stop();
    await nats?.stop();
    await database?.drop();
  });

  it('is raised by the partition owner’s engine, seen on both nodes, acknowledged from either', async () => {
    const [a] = nodes as [Node, Node];
    const user = async (role: string) => {
      const email = `${role}-cluster@lab.test`;
      expect((await a.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role })).status).toBe(201);
      const r = await a.api('POST', '/api/auth/login', { email, password: 'long-enough-password' });
      return r.body.token as string;
    };
    const doctor = await user('doctor');
    const nurse = await user('nurse');
    const lab = await user('lab');
    const patientId = (await a.api('POST', '/api/patients', { name: 'Cluster Lab', ward: 'LC', bed: '1' })).body.id as string;
    const test = (await a.api('POST', '/api/lab-tests', { code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 }, lab)).body.id as string;

    // Which node processes the patient, which one does not.
    const p = partitionOf(patientId, null, PARTITIONS);
    const owns = await Promise.all(nodes.map(async (n) => ((await n.api('GET', '/api/cluster')).body.owned as number[]).includes(p)));
    const owner = nodes[owns.indexOf(true)]!;
    const other = nodes[owns.indexOf(true) === 0 ? 1 : 0]!;

    // Displays on both nodes: the ward on the owner, the patient on the other.
    const onOwner = await connectSocket(owner.base, nurse);
    const onOther = await connectSocket(other.base, nurse);
    sockets.push(onOwner, onOther);
    const ownerAlerts = collect(onOwner, 'alert');
    const otherAlerts = collect(onOther, 'alert');
    expect((await onOwner.emitWithAck('subscribe', { ward: 'LC' })).ok).toBe(true);
    expect((await onOther.emitWithAck('subscribe', { patientId })).ok).toBe(true);

    const o = await other.api('POST', '/api/lab-orders', { patientId, tests: [test], priority: 'urgent' }, doctor);
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    expect((await owner.api('PUT', `/api/lab-orders/${o.body.id}/collect`, undefined, nurse)).status).toBe(200);
    // Resulted on the node that does not hold the patient: the alarm goes through the ingest log.
    const r = await other.api('PUT', `/api/lab-orders/${o.body.id}/results`, { results: [{ testId: test, value: 7.4 }] }, lab);
    expect(r, JSON.stringify(r.body)).toMatchObject({ status: 200, body: { status: 'resulted', items: [{ flag: 'HH' }] } });

    const alarm = await eventually(() => otherAlerts.find((e: AlertEvent) => e.kind === 'lab-critical'), 15_000, 'the alarm on the other node’s display');
    expect(alarm).toMatchObject({ patientId, priority: 'high', category: 'physiological', key: `lab-critical:${o.body.id}:${test}`, value: 7.4, limit: 6.5 });
    await eventually(() => ownerAlerts.find((e: AlertEvent) => e.id === alarm.id), 10_000, 'the alarm on the owner’s ward display');
    for (const n of nodes) {
      const listed = await eventually(async () => (await n.api('GET', `/api/alerts?patientId=${patientId}&state=open`, undefined, nurse)).body.items.find((x: { id: string }) => x.id === alarm.id), 10_000, 'the alarm in GET /api/alerts');
      expect(listed).toMatchObject({ kind: 'lab-critical', ward: 'LC' });
    }

    // Acknowledged on the node that does not hold it: the action crosses to the owner.
    const ack = await other.api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'ward told' }, nurse);
    expect(ack).toMatchObject({ status: 200, body: { id: alarm.id, state: 'resolved' } });
    await eventually(() => ownerAlerts.find((e: AlertEvent) => e.id === alarm.id && e.state === 'resolved'), 10_000, 'resolved on the owner’s display');
  });
});
