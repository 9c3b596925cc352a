// Socket.IO adapters for a cluster's rooms (ADR 0027): @socket.io/redis-streams-adapter on a Debian
// redis-server against @socket.io/postgres-adapter (LISTEN/NOTIFY) on PostgreSQL. Two Socket.IO
// servers ("nodes") in this process, each with its own adapter connection(s); N clients, all on
// node B, in R rooms (N/R each), in a child process (its own event loop); node A emits to a room,
// so every delivery crosses the adapter. Measures, per adapter:
// - latency: emit on A → received by a client on B (timeOrigin + now() in both processes),
//   p50/p99/max over every delivery; paced emits, a small payload (a queue call's size) and a large one (over NOTIFY's 8,000 bytes);
// - sustained: emits/s fully delivered (to every client of the room) with a bounded number in flight.
//   npx tsx bench/socketio-adapter.ts [--clients 300 --rooms 10 --seconds 10 --rate 50 --in-flight 50]
// PostgreSQL: --database-url, else TEST_DATABASE_URL (a fresh database is made and dropped).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fork } from 'node:child_process';
import { Server } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import pg from 'pg';
import { createAdapter as createPgAdapter } from '@socket.io/postgres-adapter';
import type { Logger } from 'pino';
import { createRoomsAdapter } from '../server/realtime/cluster-adapter.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { createTestDatabase } from '../test/helpers/postgres.ts';

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- child process: the clients
interface ClientsJob {
  url: string;
  clients: number;
  rooms: number;
}
type ToWorker = { phase: string } | { stats: string } | { close: true };

function runClients(job: ClientsJob): void {
  const port = { postMessage: (m: unknown) => process.send!(m), on: (e: 'message', f: (m: ToWorker) => void) => process.on(e, f) };
  const perRoom = job.clients / job.rooms;
  const latencies = new Map<string, number[]>();
  const pending = new Map<number, number>();
  let phase = 'warmup';
  const sockets: Socket[] = [];
  const onMessage = (seq: number, sentAt: number) => {
    const at = now();
    let list = latencies.get(phase);
    if (!list) latencies.set(phase, (list = []));
    list.push(at - sentAt);
    const left = (pending.get(seq) ?? perRoom) - 1;
    if (left > 0) pending.set(seq, left);
    else {
      pending.delete(seq);
      port.postMessage({ delivered: seq });
    }
  };
  let connected = 0;
  for (let i = 0; i < job.clients; i++) {
    const s = ioClient(job.url, { transports: ['websocket'], reconnection: false, query: { room: `r${i % job.rooms}` } });
    s.on('m', onMessage);
    s.once('connect', () => {
      if (++connected === job.clients) port.postMessage({ ready: true });
    });
    s.once('connect_error', (err) => port.postMessage({ error: err.message }));
    sockets.push(s);
  }
  port.on('message', (m: ToWorker) => {
    if ('phase' in m) phase = m.phase;
    else if ('stats' in m) port.postMessage({ stats: m.stats, latencies: latencies.get(m.stats) ?? [] });
    else {
      for (const s of sockets) s.close();
      port.postMessage({ closed: true });
      setTimeout(() => process.exit(0), 100);
    }
  });
}

// ---------------------------------------------------------------- main: the two nodes
async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      clients: { type: 'string', default: '300' },
      rooms: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '50' },
      'in-flight': { type: 'string', default: '50' },
      'database-url': { type: 'string' },
      only: { type: 'string' },
    },
  });
  const opts = { clients: Number(args.clients), rooms: Number(args.rooms), seconds: Number(args.seconds), rate: Number(args.rate), inFlight: Number(args['in-flight']) };
  if (opts.clients % opts.rooms !== 0) throw new Error('--clients must be a multiple of --rooms');
  const pgBase = args['database-url'] ?? process.env.TEST_DATABASE_URL;
  const which = (args.only ?? 'redis-streams,postgres').split(',');
  const results: Record<string, unknown>[] = [];
  for (const name of which) {
    if (name === 'postgres' && !pgBase) {
      console.log('postgres: skipped (no --database-url nor TEST_DATABASE_URL)');
      continue;
    }
    const backend = name === 'redis-streams' ? await redisBackend() : await postgresBackend(pgBase!);
    try {
      results.push({ adapter: name, version: backend.version, ...(await measure(backend, opts)) });
    } finally {
      await backend.close();
    }
    console.log(JSON.stringify(results.at(-1)));
  }
  const date = new Date().toISOString();
  const file = join(import.meta.dirname, 'results', `socketio-adapter-${date.slice(0, 16).replace(':', '')}.json`);
  writeFileSync(file, JSON.stringify({ date, machine: `${cpus().length} × ${cpus()[0]?.model}`, node: process.version, ...opts, results }, null, 2) + '\n');
  console.log(`written: ${file}`);
  process.exit(0);
}

interface Backend {
  version: string;
  /** One adapter per node: each node has its own connection(s), as separate processes would. */
  adapter(): Promise<{ adapter: any; close(): Promise<void> }>;
  close(): Promise<void>;
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as unknown as Logger;

async function redisBackend(): Promise<Backend> {
  const redis = await startRedis();
  return {
    version: `@socket.io/redis-streams-adapter ${pkgVersion('@socket.io/redis-streams-adapter')}, redis ${pkgVersion('redis')}, Debian redis-server`,
    adapter: async () => createRoomsAdapter(redis.url, quietLog),
    close: () => redis.stop(),
  };
}

async function postgresBackend(baseUrl: string): Promise<Backend> {
  const db = await createTestDatabase(baseUrl);
  const setup = new pg.Client({ connectionString: db.url });
  await setup.connect();
  // The table the adapter stores payloads over NOTIFY's 8,000 bytes in (its README's schema).
  await setup.query('CREATE TABLE socket_io_attachments (id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(), payload bytea)');
  const version = (await setup.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  await setup.end();
  return {
    version: `@socket.io/postgres-adapter ${pkgVersion('@socket.io/postgres-adapter')}, PostgreSQL ${version}`,
    async adapter() {
      const pool = new pg.Pool({ connectionString: db.url, max: 10 });
      const factory = createPgAdapter(pool, { errorHandler: (err) => console.error('postgres adapter:', err.message) });
      let made: { close(): void } | null = null;
      return {
        // A function, not an arrow: Socket.IO calls it with `new`.
        adapter: function adapter(nsp: unknown) {
          return (made = factory(nsp));
        },
        async close() {
          made?.close();
          await pool.end();
        },
      };
    },
    close: () => db.drop(),
  };
}

function pkgVersion(name: string): string {
  return (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

interface Node {
  io: Server;
  http: HttpServer;
  url: string;
  close(): Promise<void>;
}

async function startNode(backend: Backend): Promise<Node> {
  const a = await backend.adapter();
  const http = createServer();
  // As server/realtime/io.ts: no compression.
  const io = new Server(http, { adapter: a.adapter, perMessageDeflate: false });
  io.on('connection', (s) => void s.join(String(s.handshake.query.room)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    io,
    http,
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async close() {
      io.engine.close();
      await a.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (x: number) => Math.round(x * 100) / 100;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function measure(backend: Backend, o: { clients: number; rooms: number; seconds: number; rate: number; inFlight: number }) {
  const a = await startNode(backend);
  const b = await startNode(backend);
  const until = Date.now() + 15_000;
  while ((await a.io.of('/').adapter.serverCount()) < 2 || (await b.io.of('/').adapter.serverCount()) < 2) {
    if (Date.now() > until) throw new Error('the two nodes did not see each other');
    await sleep(100);
  }
  const job: ClientsJob = { url: b.url, clients: o.clients, rooms: o.rooms };
  const child = fork(new URL(import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_CLIENTS: JSON.stringify(job) } });
  const worker = { postMessage: (m: ToWorker) => child.send(m), on: (e: 'message', f: (m: any) => void) => child.on(e, f) };
  const delivered = new Set<(seq: number) => void>();
  const replies: ((m: any) => void)[] = [];
  worker.on('message', (m: any) => {
    if ('delivered' in m) delivered.forEach((f) => f(m.delivered));
    else if ('error' in m) throw new Error(`client: ${m.error}`);
    else replies.shift()?.(m);
  });
  const reply = () => new Promise<any>((resolve) => replies.push(resolve));
  await reply(); // every client connected
  await sleep(500); // and joined its room

  let seq = 0;
  const emit = (bytes: number) => a.io.to(`r${seq % o.rooms}`).emit('m', seq++, now(), 'x'.repeat(bytes));
  const paced = async (phase: string, bytes: number, seconds: number, rate: number) => {
    worker.postMessage({ phase });
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < seconds * 1000; i++) {
      emit(bytes);
      const next = t0 + ((i + 1) * 1000) / rate;
      await sleep(Math.max(0, next - Date.now()));
    }
    await sleep(1000); // the last deliveries
    worker.postMessage({ stats: phase });
    const lat = ((await reply()).latencies as number[]).sort((x, y) => x - y);
    return { bytes, emitsPerS: rate, seconds, deliveries: lat.length, expected: Math.round(seconds * rate) * (o.clients / o.rooms), p50Ms: ms(pct(lat, 50)), p99Ms: ms(pct(lat, 99)), maxMs: ms(lat.at(-1) ?? NaN) };
  };

  await paced('warmup', 200, 2, o.rate);
  const small = await paced('small', 200, o.seconds, o.rate);
  const large = await paced('large', 10_000, Math.max(3, o.seconds / 2), Math.min(o.rate, 20));

  // Sustained: a new emit as each one is delivered to every client of its room, `inFlight` at a time.
  worker.postMessage({ phase: 'sustained' });
  let done = 0;
  let stopAt = 0;
  const started = now();
  await new Promise<void>((resolve) => {
    stopAt = Date.now() + o.seconds * 1000;
    // An emit lost on the way (neither adapter retries one) must not hold the bench for ever.
    setTimeout(resolve, o.seconds * 1000 + 10_000).unref();
    let inFlight = 0;
    const onDelivered = () => {
      done++;
      inFlight--;
      if (Date.now() < stopAt) {
        inFlight++;
        emit(200);
      } else if (inFlight === 0) {
        delivered.delete(onDelivered);
        resolve();
      }
    };
    delivered.add(onDelivered);
    for (; inFlight < o.inFlight; inFlight++) emit(200);
  });
  const elapsedS = (now() - started) / 1000;
  worker.postMessage({ stats: 'sustained' });
  const sLat = ((await reply()).latencies as number[]).sort((x, y) => x - y);
  const sustained = { bytes: 200, inFlight: o.inFlight, emitsPerS: Math.round(done / elapsedS), deliveriesPerS: Math.round((done * o.clients) / o.rooms / elapsedS), p50Ms: ms(pct(sLat, 50)), p99Ms: ms(pct(sLat, 99)) };

  worker.postMessage({ close: true });
  await reply();
  await a.close();
  await b.close();
  return { small, large, sustained };
}

// Last: everything above is defined by now.
if (process.env.BENCH_CLIENTS) runClients(JSON.parse(process.env.BENCH_CLIENTS) as ClientsJob);
else await main();
