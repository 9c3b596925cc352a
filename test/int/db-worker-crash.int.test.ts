// One driver (PGlite): the embedded database's worker thread is what can crash; node-postgres has
// no counterpart (its pool reconnects; a PostgreSQL restart is in durability.int.test.ts).
// A crashed PGlite worker is never a silently dead database (docs/decisions/0024): the server
// restarts it on the same data directory, /readyz says so meanwhile, and no reading the writers
// held is lost; crashing too often is fatal and said so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createPgliteDriver, type PgliteDriver } from '../../db/driver.ts';
import { connectDevice, eventually, publish, startStack, type Stack } from '../helpers/stack.ts';

describe('a crashed embedded database worker', () => {
  let stack: Stack;
  const dirs: string[] = [];
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(async () => {
    await stack?.close();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('is restarted on the same data: /readyz is 503 meanwhile, then every reading is stored', async () => {
    const { patientId, deviceId, secret } = await stack.provision('C', '1');
    const c = await connectDevice(stack.mqttTcp, deviceId, secret);
    const stored = async () => (await stack.api('GET', `/api/patients/${patientId}/vitals?limit=1000`)).body.items?.length ?? 0;
    for (let seq = 0; seq < 10; seq++) await publish(c, `devices/${deviceId}/vitals`, { ts: Date.now() - 60_000 + seq * 100, seq, hr: 70 + seq, spo2: 97 }, 1);
    await eventually(async () => (await stored()) === 10, 10_000, 'ten readings before the crash');

    const driver = stack.server.db.driver as PgliteDriver;
    await driver.crashWorkerForTest();
    // Readings keep coming while the worker is down: the writer holds them and retries.
    for (let seq = 10; seq < 30; seq++) await publish(c, `devices/${deviceId}/vitals`, { ts: Date.now() - 60_000 + seq * 100, seq, hr: 70 + (seq % 20), spo2: 97 }, 1);
    expect((await fetch(`${stack.base}/readyz`)).status).toBe(503);

    await eventually(async () => (await fetch(`${stack.base}/readyz`)).status === 200, 30_000, 'ready again after the restart');
    expect(driver.restarts).toBe(1);
    await eventually(async () => (await stored()) === 30, 15_000, 'all 30 readings stored after the restart');
    // TimescaleDB was loaded again: its functions answer on the new worker.
    const { rows } = await driver.query<{ v: string }>(`SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'`);
    expect(rows[0]?.v).toBeTruthy();
    await driver.query(`SELECT time_bucket('1 minute'::interval, now())`);
    c.end(true);
  }, 90_000);

  it('gives up after too many crashes: onFatal is called and every query fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wardpulse-crash-'));
    dirs.push(dir);
    const fatal: Error[] = [];
    const driver = await createPgliteDriver(dir, pino({ level: 'silent' }), { maxRestarts: 1, onFatal: (e) => fatal.push(e) });
    try {
      await driver.query('CREATE TABLE t (x int)');
      await driver.query('INSERT INTO t VALUES (1)');
      await driver.crashWorkerForTest();
      await eventually(() => driver.available(), 30_000, 'first restart');
      expect((await driver.query<{ x: number }>('SELECT x FROM t')).rows).toEqual([{ x: 1 }]);
      await driver.crashWorkerForTest();
      await eventually(() => fatal.length === 1, 5000, 'fatal after the second crash');
      expect(driver.available()).toBe(false);
      await expect(driver.query('SELECT 1')).rejects.toThrow(/embedded database unavailable/);
    } finally {
      await driver.close();
    }
  }, 60_000);
});
