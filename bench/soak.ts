// Memory soak: a moderate, steady load for a long time, sampling the server's RSS, to show that
// memory stays flat (no leak in the broker, pipeline, alarm engine or writers). Not part of CI.
//   npm run bench:soak -- --beds 1000 --minutes 60 [--db postgres --database-url …]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { anonymousDevices } from '../simulator/fleet.ts';
import { metric, procSample, scrape, sleep, startChild } from './ingest-lib.ts';

const { values: args } = parseArgs({
  options: {
    beds: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1' },
    minutes: { type: 'string', default: '60' },
    sample: { type: 'string', default: '30' },
    'database-url': { type: 'string' },
  },
});
const beds = Number(args.beds);
const minutes = Number(args.minutes);
const sampleS = Number(args.sample);
const root = new URL('../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-soak-'));

const server = startChild('./server-proc.ts', [], {
  ...process.env,
  HTTP_PORT: '0',
  MQTT_PORT: '0',
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  DATABASE_URL: args['database-url'] ?? '',
  ADMIN_EMAIL: 'soak@wardpulse.local',
  ADMIN_PASSWORD: 'soak-password-1',
  LOG_LEVEL: 'warn',
  ALLOW_ANONYMOUS_DEVICES: 'true',
});
const { httpPort, mqttPort } = await server.next<{ httpPort: number; mqttPort: number }>('ready');
const devicesFile = join(dataDir, 'devices.json');
writeFileSync(devicesFile, JSON.stringify(anonymousDevices(beds)));
const load = startChild('./load-proc.ts', [`mqtt://127.0.0.1:${mqttPort}`, devicesFile, args.rate!]);
await load.next('connected');

const samples: { minute: number; rssMb: number; stored: number }[] = [];
const t0 = Date.now();
console.log(`soak: ${beds} beds × ${args.rate}/s for ${minutes} min on ${args['database-url'] ? 'PostgreSQL' : 'PGlite'}; RSS every ${sampleS} s`);
while (Date.now() - t0 < minutes * 60_000) {
  await sleep(sampleS * 1000);
  const m = await scrape(`http://127.0.0.1:${httpPort}/metrics`);
  const s = { minute: Math.round(((Date.now() - t0) / 60_000) * 10) / 10, rssMb: Math.round(procSample(server.pid).rssMb), stored: metric(m, 'wardpulse_readings_stored_total') };
  samples.push(s);
  console.log(`${s.minute.toFixed(1)} min  RSS ${s.rssMb} MB  stored ${s.stored}`);
}
const stoppedP = load.next<{ sent: number }>('stopped');
await load.stop();
const stopped = await stoppedP.catch(() => load.last<{ sent: number }>('stats') ?? { sent: 0 });
await sleep(3000);
const final = await scrape(`http://127.0.0.1:${httpPort}/metrics`);

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
  samples,
};
const file = join(root, 'bench', 'results', `soak-${result.database}-${result.date.slice(0, 16).replace(':', '')}.json`);
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
console.log(`published ${result.published}, stored ${result.stored}, dropped ${result.dropped}; RSS ${result.rssStartMb} → ${result.rssEndMb} MB (max ${result.rssMaxMb}), slope ${result.rssSlopeMbPerHourSecondHalf} MB/h over the second half → ${file}`);
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
