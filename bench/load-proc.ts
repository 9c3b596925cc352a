// The load generator for bench/ingest.ts, in its own process: the simulator's engine (startFleet),
// the given scenario (`mixed` for monitored beds: deterioration, artefacts and sensor faults at
// the simulator's rates; `stable` for the baselines), each device publishing at `rate` with the ward's publishes spread evenly over
// each period; each reading's `ts` is its publish time and `seq` counts per device.
// `qos` 1: a reading counts as published once acknowledged (PUBACK). Reports the published count once a second over IPC; stops on { type: 'stop' }.
import { readFileSync } from 'node:fs';
import { startFleet, type FleetDevice } from '../simulator/fleet.ts';
import type { FleetScenarioName } from '../simulator/scenarios.ts';

const [mqttUrl, devicesFile, rate, scenario = 'stable', qos = '0'] = process.argv.slice(2) as [string, string, string, string?, string?];
const devices = JSON.parse(readFileSync(devicesFile, 'utf8')) as FleetDevice[];
const fleet = await startFleet({
  mqttUrl,
  devices,
  scenario: scenario as FleetScenarioName,
  seed: 7,
  rate: Number(rate),
  qos: qos === '1' ? 1 : 0,
  // Connections opened over ~1 ms each, so 5,000 devices do not storm the broker in one burst.
  connectWindowMs: Math.max(1000, devices.length),
});
const report = (type: string) => process.send?.({ type, ...fleet.stats() });
const connected = await fleet.waitConnected(60_000);
// Sent either way: a step where devices cannot all connect is itself a result.
process.send?.({ type: 'connected', all: connected, ...fleet.stats() });
const timer = setInterval(() => report('stats'), 1000);
process.on('message', (m: { type?: string }) => {
  if (m.type !== 'stop') return;
  clearInterval(timer);
  fleet.stop().then(() => {
    report('stopped');
    setTimeout(() => process.exit(0), 100);
  });
});
process.on('disconnect', () => process.exit(0));
