// `npm run demo`: the server on the embedded database plus a simulated ward, in one command.
// Its own data directory (./data/demo) and admin credentials, kept between runs; `--help` for
// the options and the environment it reads.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../server/config.ts';
import { startServer } from '../server/server.ts';
import { generateSecret } from '../server/auth/passwords.ts';
import { startFleet } from './fleet.ts';
import { noNurseNote, nurseBeds, nurseLogger, startNurse, type Nurse } from './nurse-runner.ts';
import { loadFleetFile, provisionFleet, saveFleetFile } from './provision.ts';
import { formatSummary } from './summary.ts';
import { FLEET_SCENARIO_NAMES, type FleetScenarioName } from './scenarios.ts';
import { ensureKioskWard, restClient, seedHospital, type SeedAccounts } from './seed.ts';
import { seedSymptomMap } from './symptom-map.ts';
import { DEFAULT_DEMO_DIR, demoAdmin, demoAdminFile, demoDir, demoFleetFile, readDemoAdmin } from './demo-files.ts';

const USAGE = `Usage: npm run demo -- [options]

Starts the server on the embedded database with a simulated ward, a small seeded hospital and a
simulated nurse, and prints the ward's URL and the logins.

Options:
  --beds N              beds in the ward, 1–500 (default 24; used when the ward is first provisioned)
  --scenario NAME       ${FLEET_SCENARIO_NAMES.join(' | ')} (default mixed)
  --seed N              seed for patients, scenarios and readings (default 7)
  --speed X             scenario time X times faster (default 4)
  --ward NAME           the simulated ward (default A)
  --no-nurse            no simulated nurse (NEWS2 then lacks acvpu and o2: partial)
  --device-assessments  devices send o2/acvpu themselves
  -h, --help            show this help

Environment (as for npm start; a bad value stops the start with its name):
  HTTP_PORT             dashboard, REST, Socket.IO and MQTT over WebSocket (default 8080)
  MQTT_PORT             MQTT over TCP (default 1883)
  DATA_DIR              where the demo keeps its database, admin and fleet (default ${DEFAULT_DEMO_DIR})
  ADMIN_EMAIL, ADMIN_PASSWORD
                        the demo's admin, set on its first run (default admin@wardpulse.local
                        and a generated password); kept in $DATA_DIR/demo-admin.json
  LOG_LEVEL             default warn;  LOG_FORMAT  json | pretty (default: pretty on a terminal)

Beside a running demo, in another terminal with the same environment, add a ward of your own:
  npm run simulate -- --provision --ward B --scenario sepsis
`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      beds: { type: 'string', default: '24' },
      scenario: { type: 'string', default: 'mixed' },
      seed: { type: 'string', default: '7' },
      speed: { type: 'string', default: '4' },
      ward: { type: 'string', default: 'A' },
      'no-nurse': { type: 'boolean', default: false },
      'device-assessments': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  usageError((err as Error).message);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

function usageError(message: string): never {
  process.stderr.write(`demo: ${message}\nRun with --help for usage.\n`);
  process.exit(2);
}
const beds = Number(args.beds);
if (!Number.isInteger(beds) || beds < 1 || beds > 500) usageError('--beds must be an integer from 1 to 500');
if (!(FLEET_SCENARIO_NAMES as readonly string[]).includes(args.scenario!)) {
  usageError(`--scenario must be one of ${FLEET_SCENARIO_NAMES.join(', ')}`);
}

const dataDir = demoDir(process.env);
mkdirSync(dataDir, { recursive: true });
const credsFile = demoAdminFile(dataDir);
const { admin: creds, created, note: adminNote } = demoAdmin(readDemoAdmin(dataDir), process.env, () => generateSecret(12));
if (adminNote) console.log(`note: ${adminNote}`);

let config;
try {
  config = loadConfig({ LOG_LEVEL: 'warn', ...process.env, DATA_DIR: dataDir, ADMIN_EMAIL: creds.email, ADMIN_PASSWORD: creds.password });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`demo: ${err.message}`);
  process.exit(2);
}
// Kept only once the configuration (the password's strength included) is accepted.
if (created) writeFileSync(credsFile, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
const server = await startServer(config);
if (server.https || !server.mqttPort) {
  // The demo's devices and nurse talk plain MQTT and HTTP on loopback.
  await server.close();
  console.error('npm run demo runs without TLS: unset TLS_CERT_FILE, TLS_KEY_FILE and MQTT_PLAIN for it');
  process.exit(2);
}
const base = `http://127.0.0.1:${server.httpPort}`;

const fleetFile = demoFleetFile(dataDir, args.ward!);
let fleetDevices = existsSync(fleetFile) ? (await loadFleetFile(fleetFile)).devices : [];
if (fleetDevices.length === 0) {
  console.log(`provisioning ${beds} beds in ward ${args.ward} …`);
  const file = await provisionFleet({ baseUrl: base, email: creds.email, password: creds.password, ward: args.ward!, beds, seed: Number(args.seed) });
  await saveFleetFile(fleetFile, file);
  fleetDevices = file.devices;
} else if (fleetDevices.length < beds) {
  console.log(`note: ward ${args.ward} was provisioned with ${fleetDevices.length} beds; using those (delete ${dataDir} to start over)`);
}
const ward = args.ward!;

// A small hospital around the ward (staff, doctors with schedules, stock, lab tests, outpatients), once.
const seedFile = join(dataDir, 'demo-hospital.json');
let seeded: { accounts: SeedAccounts } | null = existsSync(seedFile) ? JSON.parse(readFileSync(seedFile, 'utf8')) : null;
const adminLogin = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(creds) });
const admin = restClient(base, ((await adminLogin.json()) as { token: string }).token);
if (!seeded) {
  const result = await seedHospital(admin, () => generateSecret(9), [ward]);
  seeded = { accounts: result.accounts };
  writeFileSync(seedFile, JSON.stringify(seeded, null, 2) + '\n', { mode: 0o600 });
  console.log(`seeded: ${result.doctors.length} doctors with schedules, ${result.stockItems} stock items, ${result.labTests} lab tests, ${result.outpatients} outpatients`);
}
// The starter symptom map behind GET /api/doctors/suggest, when the map is empty (a demo seeded
// before the map existed gets it too; one someone has edited is left alone).
const symptomRows = await seedSymptomMap(admin).catch((err: Error) => {
  console.log(`note: ${err.message}`);
  return 0;
});
if (symptomRows > 0) console.log(`seeded: a starter symptom map of ${symptomRows} rows (GET /api/doctors/suggest?symptoms=chest pain,cough; edit it at /api/symptom-map)`);
// The wall display is bound to the ward(s) it shows: this run's ward too.
const kioskWards = await ensureKioskWard(base, admin, seeded.accounts.kiosk, ward).catch((err: Error) => {
  console.log(`note: ${err.message}`);
  return [];
});

const fleet = await startFleet({
  mqttUrl: `mqtt://127.0.0.1:${server.mqttPort}`,
  devices: fleetDevices.slice(0, beds),
  scenario: args.scenario as FleetScenarioName,
  seed: Number(args.seed),
  speed: Number(args.speed),
  deviceAssessments: args['device-assessments'],
});

// The seeded nurse charts full observation sets (o2 and ACVPU included) for every bed.
const newLine = () => {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
};
let nurse: Nurse | null = null;
let nurseNote: string;
if (args['no-nurse']) nurseNote = noNurseNote('nurse off (--no-nurse)', args['device-assessments']!);
else {
  const { email, password } = seeded.accounts.nurse;
  try {
    nurse = await startNurse({
      baseUrl: base,
      email,
      password,
      beds: nurseBeds(fleet),
      seed: Number(args.seed),
      onEvent: nurseLogger((line) => {
        newLine();
        console.log(line);
      }),
    });
    nurseNote = `nurse ${email} charts full observation sets: a first round now, then per RCP NEWS2 chart 4 (scenario time; --no-nurse to turn off)`;
  } catch (err) {
    nurseNote = noNurseNote(`nurse: cannot log in as ${email} (${(err as Error).message})`, args['device-assessments']!);
  }
}

console.log(
  [
    '',
    `WardPulse demo — open http://localhost:${server.httpPort}/ward/${encodeURIComponent(ward)}`,
    `  log in as ${creds.email} / ${creds.password}   (kept in ${credsFile})`,
    `  or as nurse ${seeded.accounts.nurse.email} / ${seeded.accounts.nurse.password}, doctor ${seeded.accounts.doctor.email} / ${seeded.accounts.doctor.password}`,
    `  wall display (kiosk, wards ${kioskWards.join(', ') || 'none'}): ${seeded.accounts.kiosk.email} / ${seeded.accounts.kiosk.password} → /ward/${encodeURIComponent(ward)}?kiosk=1   (all in ${seedFile})`,
    `  API documentation: http://localhost:${server.httpPort}/api/docs`,
    `  ${beds} simulated beds in ward ${ward}, scenario ${args.scenario}, speed ×${args.speed}; MQTT on port ${server.mqttPort}`,
    `  ${nurseNote}`,
    `  more beds, in another terminal with the same environment: npm run simulate -- --provision --ward B`,
    '  Ctrl-C stops the simulator and the server.',
    '',
  ].join('\n'),
);

let last = fleet.stats().sent;
let lastAt = Date.now();
const started = Date.now();
const ticker = setInterval(() => {
  const s = fleet.stats();
  const now = Date.now();
  const rate = ((s.sent - last) * 1000) / Math.max(1, now - lastAt);
  last = s.sent;
  lastAt = now;
  if (process.stdout.isTTY) process.stdout.write(`\r${formatSummary(s, rate, now - started, nurse?.stats())}\x1b[K`);
}, 1000);

let stopping = false;
const stop = async () => {
  if (stopping) process.exit(1);
  stopping = true;
  clearInterval(ticker);
  process.stdout.write('\nstopping …\n');
  await nurse?.stop();
  await fleet.stop();
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
