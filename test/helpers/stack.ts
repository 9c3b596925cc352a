// Build the whole real stack for a test: server on port 0 (HTTP, Socket.IO, MQTT TCP + WS; with
// TLS env, HTTPS, WSS and MQTTS) on PGlite-TimescaleDB or a fresh PostgreSQL database; plus small
// clients to drive it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { io as ioClient, type Socket } from 'socket.io-client';
import { loadConfig } from '../../server/config.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/domain/events.ts';
import { createTestDatabase } from './postgres.ts';

export type DbKind = 'pglite' | 'postgres';

export const ADMIN = { email: 'admin@test.local', password: 'test-admin-password' };

export interface Stack {
  server: RunningServer;
  /** The server's DATA_DIR (a temporary directory, removed by close). */
  dataDir: string;
  base: string;
  /** `mqtt://…`; '' when MQTT_PLAIN is off. */
  mqttTcp: string;
  /** `ws://…/mqtt`, or `wss://…/mqtt` under TLS. */
  mqttWs: string;
  /** `mqtts://…`; '' without TLS. */
  mqttTls: string;
  adminToken: string;
  api<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  /** A patient in `ward` with a device assigned to it. */
  provision(ward?: string, bed?: string): Promise<{ patientId: string; deviceId: string; secret: string }>;
  login(email: string, password: string): Promise<string>;
  /** Stop and start the server on the same data; `samePorts` keeps its ports (clients reconnect). */
  restart(opts?: { samePorts?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** `ca`: the PEM file the test's HTTPS requests trust (with TLS_CERT_FILE in `env`). */
export async function startStack(kind: DbKind, pgUrl?: string, env: Record<string, string> = {}, opts: { ca?: string } = {}): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-test-'));
  const database = kind === 'postgres' ? await createTestDatabase(pgUrl!) : null;
  const ca = opts.ca ? readFileSync(opts.ca) : undefined;
  const config = (ports?: { http: number; mqtt: number; mqtts: number | null }) =>
    loadConfig({
      HTTP_PORT: String(ports?.http ?? 0),
      MQTT_PORT: String(ports?.mqtt ?? 0),
      MQTTS_PORT: String(ports?.mqtts ?? 0),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      WRITE_FLUSH_MS: '20',
      LIVE_TICK_MS: '50',
      // Tests stream faster than a real monitor; the rate limit has its own tests (test/faults).
      DEVICE_MAX_MSG_PER_S: '100000',
      DEVICE_MSG_BURST: '100000',
      // Several servers share one test process on a busy 2-core box: its event-loop delay says
      // nothing about this server's load. Admission control has its own test (overload.int.test.ts).
      MQTT_ADMIT_MAX_LAG_MS: '0',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...env,
    });

  const stack: Stack = {
    server: await startServer(config()),
    dataDir,
    base: '',
    mqttTcp: '',
    mqttWs: '',
    mqttTls: '',
    adminToken: '',
    async api(method, path, body, token = stack.adminToken) {
      const init = {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      };
      // Node's fetch cannot be told which CA to trust: under TLS, node:https with the test's CA.
      const res = stack.server.https ? await httpsText(stack.base + path, init, ca) : await fetch(stack.base + path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed as any };
    },
    async login(email, password) {
      const r = await stack.api('POST', '/api/auth/login', { email, password }, null);
      if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.token;
    },
    async provision(ward = 'A', bed) {
      const p = await stack.api('POST', '/api/patients', { name: `Patient ${bed ?? Math.random().toString(36).slice(2, 6)}`, ward, bed: bed ?? null });
      if (p.status !== 201) throw new Error(`patient: ${JSON.stringify(p.body)}`);
      const d = await stack.api('POST', '/api/devices', { patientId: p.body.id });
      if (d.status !== 201) throw new Error(`device: ${JSON.stringify(d.body)}`);
      return { patientId: p.body.id, deviceId: d.body.id, secret: d.body.secret };
    },
    async restart(opts = {}) {
      const ports = opts.samePorts ? { http: stack.server.httpPort, mqtt: stack.server.mqttPort, mqtts: stack.server.mqttsPort } : undefined;
      await stack.server.close();
      stack.server = await startServer(config(ports));
      setUrls();
      stack.adminToken = await stack.login(ADMIN.email, ADMIN.password);
    },
    async close() {
      await stack.server.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const setUrls = () => {
    const secure = stack.server.https;
    stack.base = `${secure ? 'https' : 'http'}://127.0.0.1:${stack.server.httpPort}`;
    stack.mqttTcp = stack.server.mqttPort ? `mqtt://127.0.0.1:${stack.server.mqttPort}` : '';
    stack.mqttWs = `${secure ? 'wss' : 'ws'}://127.0.0.1:${stack.server.httpPort}/mqtt`;
    stack.mqttTls = stack.server.mqttsPort ? `mqtts://127.0.0.1:${stack.server.mqttsPort}` : '';
  };
  setUrls();
  stack.adminToken = await stack.login(ADMIN.email, ADMIN.password);
  return stack;
}

/** One HTTPS request trusting `ca`; the part of a fetch Response that `api` reads. */
function httpsText(url: string, init: { method: string; headers: Record<string, string>; body?: string }, ca: Buffer | undefined): Promise<{ status: number; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method, headers: init.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: async () => Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Connect a device; resolves on CONNACK, rejects with the broker's refusal. */
export function connectDevice(url: string, deviceId: string, password: string | undefined, extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId: deviceId, username: deviceId, password, reconnectPeriod: 0, connectTimeout: 5000, ...extra });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

export function publish(c: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  return new Promise((resolve, reject) =>
    c.publish(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos }, (err) => (err ? reject(err) : resolve())),
  );
}

export type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function connectSocket(base: string, token: string | undefined): Promise<LiveSocket> {
  return new Promise((resolve, reject) => {
    const s: LiveSocket = ioClient(base, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

/** Poll until `check` returns a truthy value (real time; for effects that cross processes). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Collect events of one kind from a socket. */
export function collect<E extends keyof ServerToClientEvents>(s: LiveSocket, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const out: Parameters<ServerToClientEvents[E]>[0][] = [];
  (s as any).on(event, (ev: any) => out.push(ev));
  return out;
}
