// Where `npm run demo` keeps what it made, so `npm run simulate` started beside it can find it:
// both read the same environment (DATA_DIR, ADMIN_EMAIL, ADMIN_PASSWORD, HTTP_PORT, MQTT_PORT).
//   $DATA_DIR (default data/demo)/demo-admin.json   the demo's admin login (mode 0600)
//   $DATA_DIR/fleet-<ward>.json                      the demo's devices, run by the demo itself
// Pure but for readDemoAdmin.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

export interface AdminLogin {
  email: string;
  password: string;
}

/** The server's default ADMIN_EMAIL (server/config.ts): the admin it creates at its first start. */
export const DEFAULT_ADMIN_EMAIL = 'admin@wardpulse.local';
export const DEFAULT_DEMO_DIR = join('data', 'demo');

export const demoDir = (env: Env): string => env.DATA_DIR || DEFAULT_DEMO_DIR;
export const demoAdminFile = (dir: string): string => join(dir, 'demo-admin.json');
export const demoFleetFile = (dir: string, ward: string): string => join(dir, `fleet-${ward}.json`);

/** The admin login in the environment: ADMIN_PASSWORD, with ADMIN_EMAIL or the server's default. */
export function adminFromEnv(env: Env): AdminLogin | null {
  if (!env.ADMIN_PASSWORD) return null;
  return { email: env.ADMIN_EMAIL || DEFAULT_ADMIN_EMAIL, password: env.ADMIN_PASSWORD };
}

/** The demo's admin login as the demo saved it, or null when there is none (or it is unreadable). */
export function readDemoAdmin(dir: string): AdminLogin | null {
  const file = demoAdminFile(dir);
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AdminLogin>;
    return typeof parsed.email === 'string' && typeof parsed.password === 'string' ? { email: parsed.email, password: parsed.password } : null;
  } catch {
    return null;
  }
}

/**
 * The demo's admin for this run. The first run (nothing kept) creates it from ADMIN_EMAIL and
 * ADMIN_PASSWORD when they are set, else as the server's default admin (admin@wardpulse.local) with
 * a generated password: the same defaults as `npm start` and `npm run simulate -- --provision`.
 * Later runs keep the admin the database already holds: the environment cannot change its
 * password, so a different ADMIN_PASSWORD gets a note instead of a failed login.
 */
export function demoAdmin(kept: AdminLogin | null, env: Env, generate: () => string): { admin: AdminLogin; created: boolean; note: string | null } {
  if (kept) {
    const differs = (env.ADMIN_PASSWORD && env.ADMIN_PASSWORD !== kept.password) || (env.ADMIN_EMAIL && env.ADMIN_EMAIL !== kept.email);
    return {
      admin: kept,
      created: false,
      note: differs ? `ADMIN_EMAIL/ADMIN_PASSWORD differ from the demo's admin, created at its first run: logging in as ${kept.email} (delete the demo's directory to start over)` : null,
    };
  }
  return {
    admin: { email: env.ADMIN_EMAIL || DEFAULT_ADMIN_EMAIL, password: env.ADMIN_PASSWORD || generate() },
    created: true,
    note: null,
  };
}

/**
 * Why `npm run simulate` has no devices, and exactly what to run. The demo's own fleet is not
 * borrowed: the demo runs those devices itself, and a second client with the same client id takes
 * over the session (docs/device-protocol.md), so the two would knock each other off in turn.
 */
export function missingFleetMessage(fleetFile: string, ward: string, demo: { dir: string; fleet: boolean; admin: boolean }): string {
  const lines = [`no fleet file at ${fleetFile}.`];
  if (demo.fleet) {
    lines.push(
      `The demo's ward ${ward} (${demoFleetFile(demo.dir, ward)}) is simulated by npm run demo itself; running its devices twice would make each take over the other's connection.`,
      `To add beds to a running demo, provision a ward of your own:`,
      `  npm run simulate -- --provision --ward B --scenario sepsis`,
      demo.admin
        ? `(admin login from ADMIN_EMAIL/ADMIN_PASSWORD, else the demo's ${demoAdminFile(demo.dir)}; the demo's ports from HTTP_PORT/MQTT_PORT, as for the demo)`
        : '(admin login from ADMIN_EMAIL/ADMIN_PASSWORD; the demo\'s ports from HTTP_PORT/MQTT_PORT, as for the demo)',
    );
  } else {
    lines.push(
      'Provision patients and devices once (admin login from ADMIN_PASSWORD, and ADMIN_EMAIL if not admin@wardpulse.local):',
      `  npm run simulate -- --provision${ward === 'A' ? '' : ` --ward ${ward}`}`,
      'or, against a server started with --allow-anonymous-devices: npm run simulate -- --anonymous',
    );
  }
  return lines.join('\n');
}

/** `HTTP_PORT`/`MQTT_PORT` as the server reads them, for the simulator's default URLs. */
export function envPort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new RangeError(`${name}="${value}": must be a port number from 1 to 65535`);
  return n;
}
