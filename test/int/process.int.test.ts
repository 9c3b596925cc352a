// One driver (PGlite, what `npm start` uses without DATABASE_URL): it tests the process (environment, ports, signals, exit code), not the storage.
// `npm start` as a newcomer runs it: a real process on the embedded database, configured by
// environment variables, logging its real ports, and exiting 0 on SIGTERM after a clean shutdown.
// Also the device side as firmware authors test it: mosquitto_pub, when installed (CI installs it).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, connectSocket, eventually } from '../helpers/stack.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const hasMosquitto = spawnSync('sh', ['-c', 'command -v mosquitto_pub']).status === 0;

function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('the server process', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses a bad configuration with a clear message and exit code 2', async () => {
    const { child, output } = startProcess({ HTTP_PORT: 'eighty' });
    expect(await exitOf(child)).toBe(2);
    expect(output()).toMatch(/HTTP_PORT="eighty": must be a number/);
  });

  it('starts on port 0, prints the generated admin password once, serves, and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-proc-'));
    dirs.push(dataDir);
    const { child, output } = startProcess({ HTTP_PORT: '0', MQTT_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_PASSWORD: '' });
    const port = await eventually(() => /WardPulse is up: http:\/\/localhost:(\d+)/.exec(output())?.[1], 60_000, 'startup line');
    const mqttPort = /MQTT tcp port (\d+)/.exec(output())![1]!;
    const password = /password: (\S+)/.exec(output())?.[1];
    expect(password).toBeTruthy();
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@wardpulse.local', password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      return (await r.json()) as any;
    };

    if (hasMosquitto) {
      // The "done when" path: provision over REST, publish with mosquitto_pub, see it in REST and live.
      const patient = await api('POST', '/api/patients', { name: 'Mo Squitto', ward: 'M', bed: '1' });
      const device = await api('POST', '/api/devices', { patientId: patient.id });
      const socket = await connectSocket(base, token);
      const vitals = collect(socket, 'vitals');
      await socket.emitWithAck('subscribe', { patientId: patient.id });
      const sentAt = Date.now();
      const pub = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', mqttPort, '-i', device.id, '-u', device.id, '-P', device.secret, '-q', '1', '-t', `devices/${device.id}/vitals`, '-m', '{"hr":72,"spo2":97}']);
      expect(pub.status, pub.stderr.toString()).toBe(0);
      await eventually(() => vitals.flat().find((v) => v.patientId === patient.id), 1000, 'vitals event within a second');
      const rows = await eventually(async () => (await api('GET', `/api/patients/${patient.id}/vitals`)).items?.[0], 1000, 'row within a second');
      expect(rows.values).toEqual({ hr: 72, spo2: 97 });
      expect(Date.now() - sentAt).toBeLessThan(3000);
      socket.close();
    }

    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    expect(output()).toMatch(/shut down cleanly/);
  });
});
