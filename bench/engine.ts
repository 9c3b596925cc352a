// The monitoring engine alone, in process: N patients × 1 reading/s of six vitals (a noisy stable
// course with an occasional excursion) for S simulated seconds, with the engine's 1 s clock. Prints
// the CPU cost per reading and per patient-second — the figure behind the capacity of one core.
//   npx tsx bench/engine.ts --patients 5000 --seconds 120
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AlarmEngine, DEFAULT_ENGINE } from '../server/pipeline/alarms/engine.ts';

const { values: args } = parseArgs({ options: { patients: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '120' } } });
const n = Number(args.patients);
const seconds = Number(args.seconds);
const engine = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: randomUUID });
const ids = Array.from({ length: n }, () => randomUUID());
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const t0 = Date.now();
let outputs = 0;
const cpu0 = process.cpuUsage();
const w0 = performance.now();
for (let s = 0; s < seconds; s++) {
  for (let i = 0; i < n; i++) {
    const ts = t0 + s * 1000 + Math.floor((i / n) * 1000);
    const spike = rnd() < 0.002 ? 60 : 0;
    const values = { hr: 72 + Math.round(rnd() * 6) + spike, spo2: 96 + Math.round(rnd() * 2), rr: 15 + Math.round(rnd() * 2), temp: 36.8, sbp: 120 + Math.round(rnd() * 8), dbp: 78 };
    const o = engine.reading({ ts, receivedAt: ts + 5, deviceId: `dev-${i}`, patientId: ids[i]!, values, seq: s, source: 'device' }, ts + 5);
    outputs += o.scores.length + o.alarms.length;
  }
  const o = engine.tick(t0 + s * 1000 + 999);
  outputs += o.scores.length + o.alarms.length;
}
const wallMs = performance.now() - w0;
const cpu = process.cpuUsage(cpu0);
const readings = n * seconds;
const usPerReading = (cpu.user + cpu.system) / readings;
console.log(
  `${n} patients × ${seconds} s: ${readings} readings in ${(wallMs / 1000).toFixed(1)} s wall; ` +
    `${usPerReading.toFixed(1)} µs CPU per reading (incl. the 1 s clock); one core ≈ ${Math.floor(1e6 / usPerReading)} readings/s of engine alone; ${outputs} outputs`,
);
