// The real server as a child process (`node --import tsx server/main.ts`), for tests that kill it
// (SIGKILL) and start it again on the same DATA_DIR: start, wait for its exit, and a signed-in
// HTTP session read off its startup line.
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually } from './stack.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
export const PROCESS_ADMIN_PASSWORD = 'crash-test-admin-pw';

/** Start the server on port 0 with `dataDir`; `output()` is everything it printed so far. */
export function startServerProcess(dataDir: string, env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      HTTP_PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: PROCESS_ADMIN_PASSWORD,
      MONITOR_STATE_SAVE_S: '3600',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** The signal or exit code the process ended with (at once if it already has). */
export const exitOf = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.signalCode ?? child.exitCode) : child.once('exit', (code, signal) => resolve(signal ?? code))));

/** Log in on the server that printed `output` (its port from the startup line); `api` sends JSON with the token. */
export async function processSession(output: () => string, email = 'admin@wardpulse.local', password = PROCESS_ADMIN_PASSWORD) {
  const port = await eventually(() => /WardPulse is up: http:\/\/localhost:(\d+)/.exec(output())?.[1], 60_000, 'startup line');
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  const { token, user } = (await login.json()) as { token: string; user: { id: string } };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  return { api, userId: user.id };
}
