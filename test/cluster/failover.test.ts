// Issue 14 part 2 (ADR 0026): a cluster of NATS ×3 (JetStream, R3), Redis, HAProxy and WardPulse ×3,
// all real processes. 200 monitored beds (patients with their own devices) publish at 1 Hz with
// QoS 1, `clean: false` and a `seq`, through HAProxy; wall displays (Socket.IO through HAProxy)
// watch every ward. Then:
//  1. kill -9 the node that processes one patient's partition while that patient deteriorates:
//     the survivors take its partitions over; the alarm is raised within 15 s of the kill; every
//     display reconnects by itself, gets its snapshot back and live values again;
//  2. kill -9 one NATS server: nothing stops;
//  3. stop everything and start it again: the acknowledged alarm is still acknowledged, the
//     latest values are back on the displays, readings go on being stored.
// Throughout: every reading a device saw acknowledged is stored exactly once (by seq), and no
// partition was processed by two nodes at the same time (the nodes' own logs of taking and
// leaving partitions, against the kill times).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { io as ioClient, type Socket } from 'socket.io-client';
import { startLocalCluster, waitFor, type LocalCluster } from '../../server/cluster/local-stack.ts';
import { partitionOf } from '../../server/cluster/partitions.ts';
import { provisionBeds, type Bed } from '../../bench/beds.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { storedSeqs } from '../helpers/readings.ts';

const BEDS = 200;
const PARTITIONS = 16;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A bedside monitor: QoS 1, persistent session, one reading a second with a seq; records what was acknowledged. */
class Monitor {
  readonly acked = new Set<number>();
  /** Publishes mqtt.js gave up on (its callback's error), by seq: not acknowledged, so not owed. */
  readonly failed = new Map<number, string>();
  seq = 0;
  deteriorating = false;
  private timer: NodeJS.Timeout | null = null;
  readonly client: MqttClient;
  constructor(
    readonly bed: Bed,
    url: string,
  ) {
    this.client = mqtt.connect(url, { clientId: bed.deviceId, username: bed.deviceId, password: bed.secret, clean: false, reconnectPeriod: 300, connectTimeout: 5000, keepalive: 10 });
    this.client.on('error', () => undefined);
  }
  start(offsetMs: number): void {
    setTimeout(() => {
      this.send();
      this.timer = setInterval(() => this.send(), 1000);
    }, offsetMs);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
  private send(): void {
    const s = this.seq++;
    const vitals = this.deteriorating ? { hr: 142, spo2: 82, rr: 31, sbp: 76, temp: 39.4 } : { hr: 70 + (s % 9), spo2: 97, rr: 14, sbp: 122, temp: 36.8 };
    // mqtt.js keeps an unacknowledged QoS 1 message and sends it again after reconnecting.
    this.client.publish(`devices/${this.bed.deviceId}/vitals`, JSON.stringify({ ts: Date.now(), seq: s, ...vitals }), { qos: 1 }, (err) => {
      if (!err) this.acked.add(s);
      else this.failed.set(s, err.message);
    });
  }
}

/** A wall display through HAProxy: subscribes to its wards on every (re)connect, counts what arrives. */
class Display {
  readonly socket: Socket;
  connects = 0;
  disconnects = 0;
  lastVitalsAt = 0;
  /** Patients in the last subscribe answers with latest values, per ward. */
  snapshotWithValues = new Map<string, number>();
  constructor(
    url: string,
    token: () => string,
    readonly wards: string[],
  ) {
    this.socket = ioClient(url, { transports: ['websocket'], auth: (cb) => cb({ token: token() }), reconnectionDelay: 200, reconnectionDelayMax: 1000 });
    this.socket.on('connect', () => {
      this.connects++;
      for (const ward of wards)
        this.socket.emit('subscribe', { ward }, (res: { ok: boolean; data?: { patients: { values?: Record<string, unknown> }[] } }) => {
          if (res.ok) this.snapshotWithValues.set(ward, res.data!.patients.filter((p) => p.values && Object.keys(p.values).length > 0).length);
        });
    });
    this.socket.on('disconnect', () => this.disconnects++);
    this.socket.on('vitals', () => (this.lastVitalsAt = Date.now()));
  }
}

/** Intervals during which each node processed each partition, from its log lines (pino JSON). */
function processingIntervals(nodes: LocalCluster['nodes'], deaths: Map<string, number[]>) {
  const out: { node: string; partition: number; from: number; to: number }[] = [];
  for (const n of nodes) {
    const open = new Map<number, number>();
    const ends = [...(deaths.get(n.id) ?? [])];
    const events: { time: number; event: string; partition?: number }[] = [];
    for (const line of n.output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as { time: number; event?: string; partition?: number; msg?: string };
        if (j.event === 'lease_acquired' || j.event === 'lease_released' || j.event === 'lease_lost' || j.event === 'lease_expired') events.push({ time: j.time, event: j.event ?? 'start', partition: j.partition });
      } catch {
        /* not a log line */
      }
    }
    // A kill -9 ends every interval open at that moment: cut them at the next death after they began.
    const close = (p: number, to: number) => {
      out.push({ node: n.id, partition: p, from: open.get(p)!, to });
      open.delete(p);
    };
    for (const e of events) {
      while (ends.length && ends[0]! < e.time) {
        const d = ends.shift()!;
        for (const p of [...open.keys()]) close(p, d);
      }
      if (e.event === 'lease_acquired') open.set(e.partition!, e.time);
      else if (e.partition !== undefined && open.has(e.partition)) close(e.partition, e.time);
    }
    const end = ends.length ? ends[0]! : Date.now();
    for (const p of [...open.keys()]) close(p, end);
  }
  return out;
}

describe('a 3-node cluster: nothing acknowledged lost, no ward blind for long', () => {
  let cluster: LocalCluster;
  let dbDrop: () => Promise<void>;
  let db: pg.Client;
  let beds: Bed[];
  let monitors: Monitor[] = [];
  let displays: Display[] = [];
  let token = '';
  const deaths = new Map<string, number[]>();
  const figures: Record<string, number> = {};

  let doctorToken = '';
  const DOCTOR = { email: 'dr-failover@cluster.test', password: 'failover-doctor-password-1' };
  const api = async (method: string, path: string, body?: unknown, base = cluster.httpUrl, as = token) => {
    const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json().catch(() => null)) as any };
  };
  const signIn = async (email: string, password: string) => {
    const r = await fetch(`${cluster.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    return ((await r.json()) as { token: string }).token;
  };
  const login = async () => {
    token = await signIn(cluster.adminEmail, cluster.adminPassword);
    doctorToken = await signIn(DOCTOR.email, DOCTOR.password);
  };
  /** GET /api/cluster on each running node's own port. */
  const owners = async () => {
    const map = new Map<number, string>();
    for (const n of cluster.nodes) {
      if (!n.running) continue;
      const r = await api('GET', '/api/cluster', undefined, `http://127.0.0.1:${n.httpPort}`).catch(() => null);
      if (r?.status === 200) for (const p of r.body.owned as number[]) map.set(p, n.id);
    }
    return map;
  };
  const kill = async (i: number) => {
    const n = cluster.nodes[i]!;
    await cluster.killNode(i);
    deaths.set(n.id, [...(deaths.get(n.id) ?? []), Date.now()]);
  };
  /** Every acknowledged reading stored exactly once; returns how many acknowledged readings were checked. */
  const checkAcknowledgedStored = async () => {
    // Acknowledged means in the replicated ingest log; the owner's rows follow within moments. The
    // readings acknowledged up to now must all be stored (the devices go on publishing meanwhile).
    const owed = monitors.map((m) => ({ m, seqs: [...m.acked] }));
    await waitFor(async () => (await storedCheck(owed, false)) > 0, 30_000, 'acknowledged readings stored').catch(() => undefined);
    return storedCheck(owed, true);
  };
  const storedCheck = async (owed: { m: Monitor; seqs: number[] }[], assert: boolean) => {
    const stored = await storedSeqs(async (sql) => (await db.query<{ device_id: string; seq: number; n: number }>(sql)).rows);
    let checked = 0;
    const missing: string[] = [];
    const twice: string[] = [];
    for (const { m, seqs } of owed) {
      const s = stored.get(m.bed.deviceId) ?? new Map<number, number>();
      for (const seq of seqs) {
        checked++;
        if (!s.has(seq)) missing.push(`${m.bed.bed}#${seq}`);
      }
      for (const [seq, n] of s) if (n > 1) twice.push(`${m.bed.bed}#${seq}×${n}`);
    }
    if (!assert) return missing.length === 0 && twice.length === 0 ? checked : 0;
    expect(missing, 'acknowledged readings not stored').toEqual([]);
    expect(twice, 'readings stored more than once').toEqual([]);
    return checked;
  };
  /** Wait until every device's readings so far are acknowledged (devices reconnected and resent). */
  const allAcknowledged = (ms: number) =>
    waitFor(() => monitors.every((m) => m.acked.size + m.failed.size === m.seq), ms, 'every reading sent so far acknowledged').catch((err: Error) => {
      const behind = monitors.filter((m) => m.acked.size + m.failed.size !== m.seq).map((m) => `${m.bed.bed}: ${m.acked.size}/${m.seq} (unacked ${[...Array(m.seq).keys()].filter((q) => !m.acked.has(q) && !m.failed.has(q)).join(',')})`);
      throw new Error(`${err.message}: ${behind.slice(0, 10).join(', ')}`);
    });

  beforeAll(async () => {
    const database = await createTestDatabase(inject('pgUrl'));
    dbDrop = database.drop;
    cluster = await startLocalCluster({ nodes: 3, databaseUrl: database.url, env: { CLUSTER_PARTITIONS: String(PARTITIONS), CLUSTER_LEASE_S: '5' } });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    token = await signIn(cluster.adminEmail, cluster.adminPassword);
    // Alarm actions are a clinician's (a doctor), not an administrator's.
    const made = await api('POST', '/api/auth/register', { ...DOCTOR, name: 'Dr Failover', role: 'doctor' });
    expect(made.status).toBe(201);
    await login();
    beds = await provisionBeds(cluster.httpUrl, { email: cluster.adminEmail, password: cluster.adminPassword }, [], BEDS, 8);
  });

  afterAll(async () => {
    for (const m of monitors) {
      m.stop();
      m.client.end(true);
    }
    for (const d of displays) d.socket.close();
    await db?.end().catch(() => undefined);
    if (Object.keys(figures).length) console.log(`[cluster] figures: ${JSON.stringify(figures)}`);
    const failed = monitors.reduce((n, m) => n + m.failed.size, 0);
    if (failed) console.log(`[cluster] ${failed} publishes failed on the device side (not acknowledged): ${[...new Set(monitors.flatMap((m) => [...m.failed.values()]))].join('; ')}`);
    if (cluster) {
      // The processes' logs, for reading after a failure.
      const dir = join(tmpdir(), 'wardpulse-cluster-test-logs');
      mkdirSync(dir, { recursive: true });
      for (const n of cluster.nodes) writeFileSync(join(dir, `${n.id}.log`), n.output());
      console.log(`[cluster] node logs in ${dir}`);
    }
    await cluster?.stop();
    if (process.env.KEEP_CLUSTER_DB) console.log(`[cluster] database kept: ${process.env.KEEP_CLUSTER_DB}`);
    else await dbDrop?.();
  });

  it('spreads the partitions over the three nodes', async () => {
    const map = await waitFor(async () => {
      const m = await owners();
      return m.size === PARTITIONS && new Set(m.values()).size === 3 ? m : false;
    }, 30_000, 'all partitions owned, by all three nodes');
    expect(map.size).toBe(PARTITIONS);
  });

  it('takes 200 beds at 1 Hz through HAProxy and shows them on displays connected to any node', async () => {
    monitors = beds.map((b) => new Monitor(b, cluster.mqttUrl));
    await waitFor(() => monitors.every((m) => m.client.connected), 60_000, 'all devices connected');
    monitors.forEach((m, i) => m.start((i * 1000) / monitors.length));
    const wards = [...new Set(beds.map((b) => b.ward))];
    // Six displays, round-robin over the three nodes: two per node, each watching every ward.
    displays = Array.from({ length: 6 }, () => new Display(cluster.httpUrl, () => token, wards));
    await waitFor(() => displays.every((d) => d.connects > 0 && Date.now() - d.lastVitalsAt < 2000), 30_000, 'every display receiving vitals');
    await sleep(5000);
    await allAcknowledged(15_000);
    const checked = await checkAcknowledgedStored();
    expect(checked).toBeGreaterThan(BEDS * 5);
  });

  it('kill -9 of a node: its partitions taken over, a deteriorating patient alarms within 15 s, displays come back, nothing acknowledged lost', async () => {
    const patient = beds[17]!;
    const p = partitionOf(patient.patientId, null, PARTITIONS);
    const before = await owners();
    const victim = cluster.nodes.findIndex((n) => n.id === before.get(p));
    expect(victim).toBeGreaterThanOrEqual(0);
    const victimId = cluster.nodes[victim]!.id;
    const victimPartitions = [...before].filter(([, n]) => n === victimId).map(([q]) => q);

    const killedAt = Date.now();
    await kill(victim);
    monitors.find((m) => m.bed === patient)!.deteriorating = true;

    // Failover: every partition owned again, by the survivors.
    await waitFor(async () => {
      const m = await owners();
      return m.size === PARTITIONS && victimPartitions.every((q) => m.get(q) && m.get(q) !== victimId);
    }, 20_000, 'the dead node\'s partitions taken over');
    figures.failoverS = (Date.now() - killedAt) / 1000;

    // The deteriorating patient's alarm, raised by the new owner.
    const alarm = await waitFor(async () => {
      const r = await api('GET', `/api/alerts?patientId=${patient.patientId}&state=open&priority=high`);
      return r.status === 200 && r.body.items.length > 0 ? r.body.items[0] : false;
    }, 15_000 - (Date.now() - killedAt), 'a high-priority alarm for the deteriorating patient');
    figures.alarmAfterKillS = (Date.now() - killedAt) / 1000;
    expect(figures.alarmAfterKillS).toBeLessThanOrEqual(15);

    // Displays: those on the dead node were cut off; every one is connected, re-subscribed and live again.
    await waitFor(() => displays.every((d) => d.socket.connected && Date.now() - d.lastVitalsAt < 2000), 20_000, 'every display live again');
    figures.displaysBackS = (Date.now() - killedAt) / 1000;
    expect(displays.filter((d) => d.disconnects > 0).length, 'displays that were on the killed node').toBeGreaterThan(0);
    for (const d of displays.filter((x) => x.disconnects > 0)) expect([...d.snapshotWithValues.values()].reduce((a, b) => a + b, 0), 'snapshot back-fills the latest values').toBe(BEDS);

    // An alarm action through any node reaches the new owner, once.
    const acked = await api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'seen during failover' }, cluster.httpUrl, doctorToken);
    expect(acked).toMatchObject({ status: 200, body: { id: alarm.id, state: 'acknowledged' } });
    const again = await api('POST', `/api/alerts/${alarm.id}/ack`, {}, cluster.httpUrl, doctorToken);
    expect(again.status).toBe(409);

    // The note in the alarm trail: re-derived by the node that took over.
    const detail = await api('GET', `/api/alerts/${alarm.id}`);
    expect(detail.status).toBe(200);

    await allAcknowledged(30_000);
    await checkAcknowledgedStored();
  });

  it('kill -9 of one NATS server: nothing acknowledged lost, processing goes on', async () => {
    const seqBefore = monitors.map((m) => m.seq);
    await cluster.killNats(0);
    await sleep(10_000);
    await allAcknowledged(30_000);
    expect(monitors.every((m, i) => m.seq > seqBefore[i]! + 5)).toBe(true);
    await checkAcknowledgedStored();
    await waitFor(() => displays.every((d) => d.socket.connected && Date.now() - d.lastVitalsAt < 2000), 20_000, 'every display live');
    await cluster.startNats(0);
  });

  it('restart everything: acknowledged alarm still acknowledged, latest values restored, readings stored again', async () => {
    const patient = beds[17]!;
    const open = await api('GET', `/api/alerts?patientId=${patient.patientId}&state=open&priority=high`);
    const ackedIds = (open.body.items as { id: string; state: string }[]).filter((a) => a.state === 'acknowledged').map((a) => a.id);
    expect(ackedIds.length).toBeGreaterThan(0);

    // The devices fall silent (so what the displays show after the restart can only be what was
    // restored), everything acknowledged is stored; the dead node comes back, then every node is
    // stopped and started again.
    for (const m of monitors) m.stop();
    await allAcknowledged(30_000);
    await checkAcknowledgedStored();
    await cluster.startNode(cluster.nodes.findIndex((n) => !n.running));
    for (let i = 0; i < cluster.nodes.length; i++) await cluster.stopNode(i);
    for (let i = 0; i < cluster.nodes.length; i++) deaths.set(cluster.nodes[i]!.id, [...(deaths.get(cluster.nodes[i]!.id) ?? []), Date.now()]);
    await Promise.all(cluster.nodes.map((_, i) => cluster.startNode(i)));
    // HAProxy takes a node back after two good health checks.
    await waitFor(async () => (await fetch(`${cluster.httpUrl}/readyz`).catch(() => null))?.status === 200, 15_000, 'the balancer forwarding again');
    await login();
    await waitFor(async () => (await owners()).size === PARTITIONS, 30_000, 'all partitions owned after the restart');

    for (const id of ackedIds) expect((await api('GET', `/api/alerts/${id}`)).body.state).toBe('acknowledged');
    // Every node shows every bed's latest values, restored from the database by the partitions'
    // owners and mirrored to the others; the deteriorating patient's alarm is open on them all.
    const wards = [...new Set(beds.map((b) => b.ward))];
    for (const n of cluster.nodes) {
      const socket = ioClient(`http://127.0.0.1:${n.httpPort}`, { transports: ['websocket'], auth: { token } });
      try {
        await new Promise<void>((resolve, reject) => (socket.once('connect', resolve), socket.once('connect_error', reject)));
        const shown = await waitFor(async () => {
          let withValues = 0;
          let alarmed = false;
          for (const ward of wards) {
            const res = await new Promise<{ ok: boolean; data: { patients: { patientId: string; values: Record<string, unknown>; alerts: { id: string }[] }[] } }>((resolve) => socket.emit('subscribe', { ward }, resolve));
            for (const p of res.data.patients) {
              if (Object.keys(p.values).length > 0) withValues++;
              if (p.patientId === patient.patientId && p.alerts.some((x) => ackedIds.includes(x.id))) alarmed = true;
            }
          }
          return withValues === BEDS && alarmed ? withValues : false;
        }, 15_000, `${n.id} showing every bed's restored values`);
        expect(shown).toBe(BEDS);
      } finally {
        socket.close();
      }
    }

    // The displays reconnected by themselves; the devices publish again and are stored.
    await waitFor(() => displays.every((d) => d.socket.connected), 30_000, 'every display reconnected');
    monitors.forEach((m, i) => m.start((i * 1000) / monitors.length));
    await waitFor(() => displays.every((d) => Date.now() - d.lastVitalsAt < 2000), 30_000, 'every display live after the restart');
    await sleep(3000);
    for (const m of monitors) m.stop();
    await allAcknowledged(30_000);
    figures.acknowledgedChecked = await checkAcknowledgedStored();
  });

  it('never had two nodes processing one partition at the same time', () => {
    const intervals = processingIntervals(cluster.nodes, deaths);
    expect(intervals.length).toBeGreaterThanOrEqual(PARTITIONS * 2);
    const overlaps: string[] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = intervals.filter((x) => x.partition === p).sort((a, b) => a.from - b.from);
      for (let i = 1; i < mine.length; i++) if (mine[i]!.from < mine[i - 1]!.to) overlaps.push(`p${p}: ${mine[i - 1]!.node} until ${mine[i - 1]!.to}, ${mine[i]!.node} from ${mine[i]!.from}`);
    }
    expect(overlaps).toEqual([]);
  });
});
