// A start that fails half-way (here: a port already taken) says which port, closes what it had
// opened in reverse order and leaves nothing running: no listener, no database worker, no timer;
// the next start on the same data works. On PGlite (a worker thread) and PostgreSQL (a pool).
import { afterAll, afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.ts';
import { startServer } from '../../server/server.ts';
import { createTestDatabase } from '../helpers/postgres.ts';

/** What a failed start opened, in the order it is closed (server.ts pushes a closer as each part starts). */
const CLOSED_IN_ORDER = ['report storage', 'realtime', 'broker', 'http server', 'admission control', 'ingress', 'refusals', 'monitoring', 'monitor state', 'notifier', 'live feed', 'writers', 'database', 'metrics'];

const blockPort = () =>
  new Promise<{ server: Server; port: number }>((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });

/**
 * Listeners, sockets and worker ports that keep the process alive, by kind (the test runner's own
 * timers come and go, and unref'd timers are not listed: see `intervals`).
 */
const handles = () => {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, MessagePort: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r]!++;
  return counts;
};

describe('a start that fails half-way', () => {
  const dirs: string[] = [];
  let blocker: { server: Server; port: number };
  let lines: { msg: string; part?: string; err?: { message: string } }[];
  /** Intervals set and not yet cleared (writers, savers, sweeps, maintenance: all unref'd). */
  const intervals = new Set<unknown>();

  beforeEach(async () => {
    blocker = await blockPort();
    lines = [];
    intervals.clear();
    const realSet = globalThis.setInterval;
    const realClear = globalThis.clearInterval;
    vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
      const h = realSet(fn, ms);
      intervals.add(h);
      return h;
    }) as typeof setInterval);
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(((h: Parameters<typeof clearInterval>[0]) => {
      intervals.delete(h);
      realClear(h);
    }) as typeof clearInterval);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await new Promise<void>((resolve) => blocker.server.close(() => resolve()));
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const configFor = (dataDir: string, ports: { http: number; mqtt: number }, databaseUrl?: string) =>
    loadConfig({
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      HTTP_PORT: String(ports.http),
      MQTT_PORT: String(ports.mqtt),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_EMAIL: 'admin@test.local',
      ADMIN_PASSWORD: 'test-admin-password',
      LOG_LEVEL: 'debug',
    });
  const logTo = { write: (s: string) => void lines.push(JSON.parse(s)) };

  async function expectCleanFailure(ports: { http: number; mqtt: number }, message: RegExp, databaseUrl?: string) {
    const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-startup-'));
    dirs.push(dataDir);
    const before = handles();
    await expect(startServer(configFor(dataDir, ports, databaseUrl), { logDestination: logTo })).rejects.toThrow(message);

    expect(lines.find((l) => l.msg === 'start failed; closing what was started')?.err?.message).toMatch(message);
    expect(lines.filter((l) => l.msg === 'closed').map((l) => l.part)).toEqual(CLOSED_IN_ORDER);
    expect(lines.filter((l) => l.msg === 'close failed')).toEqual([]);
    expect(intervals.size, 'intervals left running').toBe(0);
    // Give closed sockets and the database worker a moment to go.
    await new Promise((r) => setTimeout(r, 200));
    expect(handles()).toEqual(before);

    // The same data opens again: the database was closed, not left to a stray worker.
    const server = await startServer(configFor(dataDir, { http: 0, mqtt: 0 }, databaseUrl), { logDestination: { write: () => undefined } });
    expect((await fetch(`http://127.0.0.1:${server.httpPort}/readyz`)).status).toBe(200);
    await server.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(handles()).toEqual(before);
  }

  // Each start on a fresh embedded database takes a while on a busy box.
  it('names the MQTT port that is taken and closes everything it had started (PGlite)', { timeout: 180_000 }, async () => {
    await expectCleanFailure({ http: 0, mqtt: blocker.port }, new RegExp(`cannot listen for MQTT on 127\\.0\\.0\\.1:${blocker.port} \\(MQTT_PORT\\): the port is already in use`));
  });

  it('names the HTTP port that is taken and closes the MQTT listener it had already opened (PostgreSQL)', { timeout: 180_000 }, async () => {
    const database = await createTestDatabase(inject('pgUrl'));
    try {
      await expectCleanFailure({ http: blocker.port, mqtt: 0 }, new RegExp(`cannot listen for HTTP on 127\\.0\\.0\\.1:${blocker.port} \\(HTTP_PORT\\): the port is already in use`), database.url);
    } finally {
      await database.drop();
    }
  });
});
