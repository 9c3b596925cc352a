// Command-line options: parsed and validated up front, so a typo fails fast with exit code 2. Pure.
import { parseArgs } from 'node:util';
import { FLEET_SCENARIO_NAMES, SCENARIO_DESCRIPTIONS, isFleetScenarioName, type FleetScenarioName } from './scenarios.ts';
import { defaultFleetFilePath } from './provision.ts';
import { DEFAULT_ADMIN_EMAIL, envPort, type AdminLogin } from './demo-files.ts';

export interface CliOptions {
  /** Undefined: 24, or every device in the fleet file. */
  beds: number | undefined;
  rate: number;
  scenario: FleetScenarioName;
  seed: number;
  url: string;
  /** --url was given (else the nurse uses the fleet file's baseUrl, if any). */
  urlGiven: boolean;
  mqtt: string;
  ward: string;
  provision: boolean;
  anonymous: boolean;
  qos: 0 | 1;
  /** Seconds; undefined runs until SIGINT/SIGTERM. */
  duration: number | undefined;
  speed: number;
  /** Scenario onset in scenario minutes for every non-stable bed; undefined: each scenario's own (jittered per bed). */
  onset: number | undefined;
  quiet: boolean;
  fleetFile: string;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  /** Where the admin login came from, for the log line of --provision. */
  adminFrom: 'flags' | 'environment' | 'demo' | undefined;
  /** Devices send o2 and ACVPU themselves (default: numeric vitals only). */
  deviceAssessments: boolean;
  /** The simulated nurse's login (--nurse-email/--nurse-password or NURSE_EMAIL/NURSE_PASSWORD). */
  nurseEmail: string | undefined;
  nursePassword: string | undefined;
  /** --no-nurse: no nurse, even with credentials in the environment. */
  noNurse: boolean;
  help: boolean;
}

export type ParseResult = { ok: true; options: CliOptions } | { ok: false; message: string };

export const DEFAULT_BEDS = 24;
/** --onset at most one day of scenario time. */
export const MAX_ONSET_MIN = 24 * 60;

export const USAGE = `Usage: npm run simulate -- [options]

Simulates a ward of bedside monitors publishing vitals to the WardPulse MQTT broker.

Options:
  --beds N              number of beds/devices (default ${DEFAULT_BEDS}, or all in the fleet file)
  --rate R              readings per second per device, may be fractional (default 1)
  --scenario NAME       ${FLEET_SCENARIO_NAMES.join(' | ')} (default mixed)
  --seed N              seed for patients, scenarios and readings (default 1)
  --speed X             run scenario time X times faster, e.g. 10 (default 1)
  --onset MINUTES       scenario onset in scenario minutes for every non-stable bed, e.g. 25
                        (default: each scenario's own, jittered per bed: sepsis ~25 min, others 0–2 min)
  --mqtt URL            broker: mqtt://host:1883 or ws://host:8080/mqtt
                        (default mqtt://127.0.0.1:$MQTT_PORT, else port 1883)
  --qos 0|1             telemetry QoS (default 0)
  --anonymous           devices sim-0001… with no credentials (server in anonymous mode)
  --provision           create patients and devices through the REST API, save them to the fleet file
  --url URL             REST API base for --provision and the nurse
                        (default: the fleet file's, else http://127.0.0.1:$HTTP_PORT, else port 8080)
  --ward NAME           ward for --provision and the fleet file name (default A)
  --fleet-file PATH     credentials file (default .simulator/fleet-<ward>.json)
  --admin-email EMAIL   admin login for --provision (or env ADMIN_EMAIL; default admin@wardpulse.local)
  --admin-password PW   admin password for --provision (or env ADMIN_PASSWORD; without either, the
                        admin of npm run demo from $DATA_DIR/demo-admin.json, default data/demo/)
  --nurse-email EMAIL   a nurse's (or doctor's) login: she charts full observation sets, oxygen and
                        ACVPU included, through the REST API (or env NURSE_EMAIL)
  --nurse-password PW   (or env NURSE_PASSWORD)
  --no-nurse            no nurse, even with NURSE_EMAIL/NURSE_PASSWORD set
  --device-assessments  devices also send o2 and acvpu from the scenario (default: numeric vitals
                        only; oxygen and consciousness are the nurse's assessments)
  --duration SECONDS    stop after this long (default: until Ctrl-C)
  --quiet               no live summary, only the final one
  -h, --help            show this help

Environment: the variables the server and npm run demo read — HTTP_PORT and MQTT_PORT (for the
default --url and --mqtt), ADMIN_EMAIL and ADMIN_PASSWORD (--provision), DATA_DIR (where the demo
keeps its admin) — and NURSE_EMAIL/NURSE_PASSWORD. Against a running npm run demo, started with
the same environment: npm run simulate -- --provision --ward B

Scenarios:
${FLEET_SCENARIO_NAMES.map((name) => `  ${name.padEnd(12)} ${SCENARIO_DESCRIPTIONS[name]}`).join('\n')}
`;

const OPTIONS = {
  beds: { type: 'string' },
  rate: { type: 'string' },
  scenario: { type: 'string' },
  seed: { type: 'string' },
  speed: { type: 'string' },
  onset: { type: 'string' },
  mqtt: { type: 'string' },
  qos: { type: 'string' },
  anonymous: { type: 'boolean' },
  provision: { type: 'boolean' },
  url: { type: 'string' },
  ward: { type: 'string' },
  'fleet-file': { type: 'string' },
  'admin-email': { type: 'string' },
  'admin-password': { type: 'string' },
  'nurse-email': { type: 'string' },
  'nurse-password': { type: 'string' },
  'no-nurse': { type: 'boolean' },
  'device-assessments': { type: 'boolean' },
  duration: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class OptionError extends Error {}

function port(name: string, text: string | undefined, fallback: number): number {
  try {
    return envPort(name, text, fallback);
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
}

function number(name: string, text: string | undefined, fallback: number, check: { min: number; max: number; integer?: boolean }): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new OptionError(`--${name} must be a number, got '${text}'`);
  if (check.integer && !Number.isInteger(value)) throw new OptionError(`--${name} must be a whole number, got '${text}'`);
  if (value < check.min || value > check.max) throw new OptionError(`--${name} must be between ${check.min} and ${check.max}, got ${text}`);
  return value;
}

function url(name: string, text: string, protocols: readonly string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new OptionError(`--${name} is not a URL: '${text}'`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new OptionError(`--${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got '${text}'`);
  }
  return text;
}

/** What the simulator found on disk before parsing: the admin `npm run demo` saved, if any. */
export interface LocalFiles {
  demoAdmin?: AdminLogin | null;
}

/**
 * The admin login for --provision: flags, then ADMIN_EMAIL/ADMIN_PASSWORD (the email defaulting to
 * the server's, as when it created its first admin), then the demo's admin when neither is given.
 */
function adminLogin(values: { 'admin-email'?: string; 'admin-password'?: string }, env: Record<string, string | undefined>, local: LocalFiles): Pick<CliOptions, 'adminEmail' | 'adminPassword' | 'adminFrom'> {
  const password = values['admin-password'] ?? (env.ADMIN_PASSWORD || undefined);
  if (password !== undefined) {
    return {
      adminEmail: values['admin-email'] ?? (env.ADMIN_EMAIL || DEFAULT_ADMIN_EMAIL),
      adminPassword: password,
      adminFrom: values['admin-password'] !== undefined ? 'flags' : 'environment',
    };
  }
  if (local.demoAdmin && values['admin-email'] === undefined) return { adminEmail: local.demoAdmin.email, adminPassword: local.demoAdmin.password, adminFrom: 'demo' };
  return { adminEmail: values['admin-email'] ?? (env.ADMIN_EMAIL || undefined), adminPassword: undefined, adminFrom: undefined };
}

export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined> = {}, local: LocalFiles = {}): ParseResult {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    if (positionals.length > 0) throw new OptionError(`unexpected argument '${positionals[0]}'`);

    const scenario = values.scenario ?? 'mixed';
    if (!isFleetScenarioName(scenario)) {
      throw new OptionError(`--scenario must be one of ${FLEET_SCENARIO_NAMES.join(', ')}, got '${scenario}'`);
    }
    const ward = values.ward ?? 'A';
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(ward)) {
      throw new OptionError(`--ward must be 1–32 letters, digits, '-' or '_', got '${ward}'`);
    }
    const qos = number('qos', values.qos, 0, { min: 0, max: 1, integer: true }) as 0 | 1;
    if (values.provision && values.anonymous) throw new OptionError('--provision and --anonymous cannot be combined');

    const options: CliOptions = {
      beds: values.beds === undefined ? undefined : number('beds', values.beds, DEFAULT_BEDS, { min: 1, max: 10_000, integer: true }),
      rate: number('rate', values.rate, 1, { min: 0.001, max: 100 }),
      scenario,
      seed: number('seed', values.seed, 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
      speed: number('speed', values.speed, 1, { min: 0.01, max: 1000 }),
      onset: values.onset === undefined ? undefined : number('onset', values.onset, 0, { min: 0, max: MAX_ONSET_MIN }),
      url: url('url', values.url ?? `http://127.0.0.1:${port('HTTP_PORT', env.HTTP_PORT, 8080)}`, ['http:', 'https:']),
      urlGiven: values.url !== undefined,
      mqtt: url('mqtt', values.mqtt ?? `mqtt://127.0.0.1:${port('MQTT_PORT', env.MQTT_PORT, 1883)}`, ['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:']),
      ward,
      provision: values.provision ?? false,
      anonymous: values.anonymous ?? false,
      qos,
      duration: values.duration === undefined ? undefined : number('duration', values.duration, 0, { min: 0.001, max: 365 * 86_400 }),
      quiet: values.quiet ?? false,
      fleetFile: values['fleet-file'] ?? defaultFleetFilePath(ward),
      ...adminLogin(values, env, local),
      deviceAssessments: values['device-assessments'] ?? false,
      nurseEmail: values['nurse-email'] ?? (env.NURSE_EMAIL || undefined),
      nursePassword: values['nurse-password'] ?? (env.NURSE_PASSWORD || undefined),
      noNurse: values['no-nurse'] ?? false,
      help: values.help ?? false,
    };
    if (options.provision && !options.help && (!options.adminEmail || !options.adminPassword)) {
      throw new OptionError(
        "--provision needs the admin's login: ADMIN_PASSWORD in the environment (and ADMIN_EMAIL unless it is admin@wardpulse.local), or --admin-email and --admin-password",
      );
    }
    if (!options.noNurse && !options.help && (options.nurseEmail === undefined) !== (options.nursePassword === undefined)) {
      throw new OptionError(
        options.nurseEmail === undefined
          ? '--nurse-password needs --nurse-email (or NURSE_EMAIL)'
          : '--nurse-email needs --nurse-password (or NURSE_PASSWORD)',
      );
    }
    return { ok: true, options };
  } catch (err) {
    if (err instanceof OptionError) return { ok: false, message: err.message };
    const code = (err as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node's text suggests '--' for positionals, which only confuses here.
      const option = /'([^']+)'/.exec((err as Error).message)?.[1] ?? '';
      return { ok: false, message: `unknown option '${option}'` };
    }
    if (code?.startsWith('ERR_PARSE_ARGS')) return { ok: false, message: (err as Error).message };
    throw err;
  }
}
