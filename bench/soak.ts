// Memory soak: a moderate, steady load for a long time, sampling the server's RSS, to show that
// memory stays flat (no leak in the broker, pipeline, alarm engine or writers). Not part of CI.
//   npm run bench -- --soak --beds 1000 --minutes 60 [--database-url postgres://…]   (or npm run bench:soak -- …)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { histogramQuantile, metric, percentiles, procSample, scrape, sleep, startChild } from './ingest-lib.ts';
import { WallDisplays, fleetOf, provisionBeds } from './beds.ts';

const msOrNull = (s: number | null) => (s === null ? null : Math.round(s * 1000));

const { values: args } = parseArgs({
  options: {
    beds: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1' },
    minutes: { type: 'string', default: '60' },
    sample: { type: 'string', default: '30' },
    scenario: { type: 'string', default: 'mixed' },
    'database-url': { type: 'string' },
  },
});
const beds = Number(args.beds);
const minutes = Number(args.minutes);
const sampleS = Number(args.sample);
const root = new URL('../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-soak-'));

const admin = { email: 'soak@wardpulse.local', password: 'soak-password-1' };
const server = startChild('./server-proc.ts', [], {
  ...process.env,
  HTTP_PORT: '0',
  MQTT_PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  DATABASE_URL: args['database-url'] ?? '',
  ADMIN_EMAIL: admin.email,
  ADMIN_PASSWORD: admin.password,
  LOG_LEVEL: 'warn',
  MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '100000', // every device connects from 127.0.0.1 here
}, ['--max-semi-space-size=64']); // as `npm start`
const { httpPort, mqttPort } = await server.next<{ httpPort: number; mqttPort: number }>('ready');
const base = `http://127.0.0.1:${httpPort}`;
// Every bed is a monitored patient (wards of 32, wall displays watching every ward): the soak keeps
// the alarm engine, live state and Socket.IO fan-out busy for every bed for the whole hour.
const provisioned = await provisionBeds(base, admin, [], beds);
const devices = fleetOf(provisioned, beds);
const watcher = await WallDisplays.open(base, admin, provisioned);
watcher.recording = true;
const devicesFile = join(dataDir, 'devices.json');
writeFileSync(devicesFile, JSON.stringify(devices), { mode: 0o600 });
const load = startChild('./load-proc.ts', [`mqtt://127.0.0.1:${mqttPort}`, devicesFile, args.rate!, args.scenario!]);
await load.next('connected');

interface Sample {
  minute: number;
  rssMb: number;
  heapUsedMb: number;
  cpuPct: number;
  stored: number;
  dropped: number;
  eventLoopP99Ms: number;
  dashboard: ReturnType<typeof percentiles>;
  commitP99Ms: number | null;
}
const samples: Sample[] = [];
const t0 = Date.now();
console.log(`soak: ${beds} beds × ${args.rate}/s for ${minutes} min on ${args['database-url'] ? 'PostgreSQL' : 'PGlite'}; a sample every ${sampleS} s`);
let prev = { proc: procSample(server.pid), m: await scrape(`${base}/metrics`) };
watcher.take();
while (Date.now() - t0 < minutes * 60_000) {
  await sleep(sampleS * 1000);
  const m = await scrape(`${base}/metrics`);
  const proc = procSample(server.pid);
  const s: Sample = {
    minute: Math.round(((Date.now() - t0) / 60_000) * 10) / 10,
    rssMb: Math.round(proc.rssMb),
    heapUsedMb: Math.round(metric(m, 'wardpulse_process_nodejs_heap_size_used_bytes') / 1048576),
    cpuPct: Math.round(((proc.cpuS - prev.proc.cpuS) / ((proc.at - prev.proc.at) / 1000)) * 1000) / 10,
    stored: metric(m, 'wardpulse_readings_stored_total'),
    dropped: metric(m, 'wardpulse_readings_dropped_total'),
    eventLoopP99Ms: Math.round(metric(m, 'wardpulse_event_loop_delay_p99_seconds') * 1000),
    dashboard: percentiles(watcher.take()),
    commitP99Ms: msOrNull(histogramQuantile(prev.m, m, 'wardpulse_reading_commit_delay_seconds', 'from="measurement"', 0.99)),
  };
  prev = { proc, m };
  samples.push(s);
  console.log(
    `${s.minute.toFixed(1)} min  RSS ${s.rssMb} MB  heap ${s.heapUsedMb} MB  CPU ${s.cpuPct} %  stored ${s.stored}  dropped ${s.dropped}  ` +
      `loop p99 ${s.eventLoopP99Ms} ms  dashboard p99 ${s.dashboard.p99} ms  commit p99 ≤ ${s.commitP99Ms} ms`,
  );
}
const stoppedP = load.next<{ sent: number }>('stopped');
await load.stop();
const stopped = await stoppedP.catch(() => load.last<{ sent: number }>('stats') ?? { sent: 0 });
await sleep(3000);
watcher.close();
const final = await scrape(`${base}/metrics`);

/** Least-squares slope of RSS over the second half of the run, MB per hour (the first half warms up). */
const tail = samples.slice(Math.floor(samples.length / 2));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const mx = mean(tail.map((s) => s.minute));
const my = mean(tail.map((s) => s.rssMb));
const slope = tail.reduce((a, s) => a + (s.minute - mx) * (s.rssMb - my), 0) / Math.max(1e-9, tail.reduce((a, s) => a + (s.minute - mx) ** 2, 0));
const result = {
  bench: 'soak',
  date: new Date(t0).toISOString(),
  beds,
  rate: Number(args.rate),
  minutes,
  database: args['database-url'] ? 'postgres' : 'pglite',
  published: stopped.sent,
  stored: metric(final, 'wardpulse_readings_stored_total'),
  dropped: metric(final, 'wardpulse_readings_dropped_total'),
  rssStartMb: samples[0]?.rssMb ?? null,
  rssEndMb: samples.at(-1)?.rssMb ?? null,
  rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
  rssSlopeMbPerHourSecondHalf: Math.round(slope * 60 * 10) / 10,
  dashboardMessages: watcher.received,
  dashboardP99MsMax: Math.max(...samples.map((x) => x.dashboard.p99 ?? 0)),
  cpuPctMean: Math.round(mean(samples.map((x) => x.cpuPct)) * 10) / 10,
  samples,
};
const file = join(root, 'bench', 'results', `soak-${result.database}-${result.date.slice(0, 16).replace(':', '')}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`published ${result.published}, stored ${result.stored}, dropped ${result.dropped}; RSS ${result.rssStartMb} → ${result.rssEndMb} MB (max ${result.rssMaxMb}), slope ${result.rssSlopeMbPerHourSecondHalf} MB/h over the second half → ${file}`);
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
