// npm run simulate -- --beds 24 --rate 1 --scenario mixed --seed 7
// Exit codes: 0 after a clean stop (SIGINT, SIGTERM, --duration), 1 on a runtime failure, 2 on bad options.
import { existsSync } from 'node:fs';
import { parseCliArgs, DEFAULT_BEDS, USAGE, type CliOptions } from './args.ts';
import { anonymousDevices, startFleet, type FleetDevice } from './fleet.ts';
import { noNurseNote, nurseBeds, nurseLogger, startNurse, type Nurse } from './nurse-runner.ts';
import { ApiError, loadFleetFile, provisionFleet, saveFleetFile } from './provision.ts';
import { demoAdminFile, demoDir, demoFleetFile, missingFleetMessage, readDemoAdmin } from './demo-files.ts';
import { fitToWidth, formatSummary } from './summary.ts';

class UsageError extends Error {}

const out = process.stdout;
const log = (line: string) => out.write(line + '\n');

/** The devices to run, and the REST API base the fleet file was provisioned against. */
async function resolveDevices(options: CliOptions): Promise<{ devices: FleetDevice[]; baseUrl?: string }> {
  if (options.anonymous) return { devices: anonymousDevices(options.beds ?? DEFAULT_BEDS) };

  if (options.provision) {
    const beds = options.beds ?? DEFAULT_BEDS;
    if (existsSync(options.fleetFile)) log(`note: ${options.fleetFile} exists and will be replaced`);
    const from = options.adminFrom === 'demo' ? ` (the demo's, from ${demoAdminFile(demoDir(process.env))})` : options.adminFrom === 'environment' ? ' (from ADMIN_EMAIL/ADMIN_PASSWORD)' : '';
    log(`provisioning ${beds} beds in ward ${options.ward} at ${options.url} as ${options.adminEmail}${from} …`);
    const file = await provisionFleet({
      baseUrl: options.url,
      email: options.adminEmail ?? '',
      password: options.adminPassword ?? '',
      ward: options.ward,
      beds,
      seed: options.seed,
    });
    await saveFleetFile(options.fleetFile, file);
    log(`saved ${file.devices.length} device credentials to ${options.fleetFile}`);
    return { devices: file.devices, baseUrl: file.baseUrl };
  }

  if (!existsSync(options.fleetFile)) {
    const dir = demoDir(process.env);
    throw new UsageError(
      missingFleetMessage(options.fleetFile, options.ward, { dir, fleet: existsSync(demoFleetFile(dir, options.ward)), admin: existsSync(demoAdminFile(dir)) }),
    );
  }
  const file = await loadFleetFile(options.fleetFile);
  const beds = options.beds ?? file.devices.length;
  if (beds > file.devices.length) {
    throw new UsageError(`${options.fleetFile} holds ${file.devices.length} devices, --beds asks for ${beds}: run with --provision`);
  }
  return { devices: file.devices.slice(0, beds), baseUrl: file.baseUrl };
}

async function main(): Promise<number> {
  const parsed = parseCliArgs(process.argv.slice(2), process.env, { demoAdmin: readDemoAdmin(demoDir(process.env)) });
  if (!parsed.ok) throw new UsageError(parsed.message);
  const options = parsed.options;
  if (options.help) {
    out.write(USAGE);
    return 0;
  }

  const { devices, baseUrl } = await resolveDevices(options);
  const tty = out.isTTY === true;
  let liveLine = false;
  function endLiveLine() {
    if (liveLine) out.write('\n');
    liveLine = false;
  }
  let refusalReported = false;
  const fleet = await startFleet({
    mqttUrl: options.mqtt,
    devices,
    scenario: options.scenario,
    seed: options.seed,
    rate: options.rate,
    speed: options.speed,
    ...(options.onset === undefined ? {} : { onsetMs: options.onset * 60_000 }),
    qos: options.qos,
    deviceAssessments: options.deviceAssessments,
    onEvent(event) {
      // One line for the first refusal: the summary counts the rest.
      if (event.type === 'connect-failed' && event.fatal && !refusalReported) {
        refusalReported = true;
        endLiveLine();
        log(`${event.deviceId}: ${event.message} (check the fleet file or use --anonymous)`);
      }
    },
  });

  const mix = new Map<string, number>();
  for (const d of fleet.devices) mix.set(d.scenario.name, (mix.get(d.scenario.name) ?? 0) + 1);
  log(
    `simulating ${devices.length} devices → ${options.mqtt} · ${options.rate}/s each · qos ${options.qos} · ` +
      `seed ${options.seed} · speed ×${options.speed}${options.onset === undefined ? '' : ` · onset ${options.onset} min`} · ${[...mix].map(([name, n]) => `${name} ${n}`).join(', ')}` +
      (options.deviceAssessments ? ' · devices send o2/acvpu' : ''),
  );

  // The nurse: full observation sets (o2 and ACVPU included) through the REST API.
  let nurse: Nurse | null = null;
  const nurseLog = nurseLogger((line) => {
    endLiveLine();
    log(line);
  }, { quiet: options.quiet });
  const beds = nurseBeds(fleet);
  if (options.noNurse) log(noNurseNote('nurse off (--no-nurse)', options.deviceAssessments));
  else if (options.nurseEmail === undefined || options.nursePassword === undefined) {
    log(noNurseNote('no nurse credentials (--nurse-email/--nurse-password or NURSE_EMAIL/NURSE_PASSWORD)', options.deviceAssessments));
  } else if (beds.length === 0) {
    log(noNurseNote('the devices belong to no patient (--anonymous)', options.deviceAssessments));
  } else {
    const url = options.urlGiven ? options.url : (baseUrl ?? options.url);
    try {
      nurse = await startNurse({ baseUrl: url, email: options.nurseEmail, password: options.nursePassword, beds, seed: options.seed, onEvent: nurseLog });
      log(`nurse ${options.nurseEmail} → ${url}: a first round over ${beds.length} beds, then full sets per RCP NEWS2 chart 4 in scenario time`);
    } catch (err) {
      log(noNurseNote(`nurse: cannot log in as ${options.nurseEmail} at ${url} (${(err as Error).message})`, options.deviceAssessments));
    }
  }

  const startedAt = Date.now();
  let last = { at: startedAt, sent: 0 };
  const ticker = setInterval(() => {
    const now = Date.now();
    const stats = fleet.stats();
    if (stats.refused === stats.devices) {
      void stop('the broker refused every device', 1);
      return;
    }
    const rate = ((stats.sent - last.sent) * 1000) / Math.max(1, now - last.at);
    last = { at: now, sent: stats.sent };
    if (options.quiet) return;
    const text = formatSummary(stats, rate, now - startedAt, nurse?.stats());
    if (tty) {
      out.write(`\r${fitToWidth(text, out.columns)}\x1b[K`);
      liveLine = true;
    } else log(text);
  }, 1000);

  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let stopping = false;
  async function stop(why: string, code: number): Promise<void> {
    if (stopping) {
      // A second Ctrl-C while the devices say goodbye: stop waiting for them.
      process.exit(1);
    }
    stopping = true;
    clearInterval(ticker);
    endLiveLine();
    await nurse?.stop();
    await fleet.stop();
    log(`stopped (${why}): ${formatSummary(fleet.stats(), null, Date.now() - startedAt, nurse?.stats())}`);
    finish(code);
  }
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  if (options.duration !== undefined) setTimeout(() => void stop(`${options.duration} s elapsed`, 0), options.duration * 1000);
  return finished;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`simulate: ${err.message}\nRun with --help for usage.\n`);
      process.exit(2);
    }
    const message = err instanceof ApiError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`simulate: ${message}\n`);
    process.exit(1);
  },
);
