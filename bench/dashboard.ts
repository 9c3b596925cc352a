// Dashboard responsiveness: a 64-bed ward updating every second, shown on a 1920×1080 wall
// display in headless Chromium (kiosk mode). Measures main-thread busy time per second (CDP
// TaskDuration), frames and dropped frames (rAF gaps), and long tasks. Not part of `npm test`.
//   npm run bench:dashboard -- --beds 64 --seconds 30
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { loadConfig } from '../server/config.ts';
import { startServer } from '../server/server.ts';
import { startFleet } from '../simulator/fleet.ts';
import { provisionFleet } from '../simulator/provision.ts';

const { values: args } = parseArgs({
  options: {
    beds: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1' },
  },
});
const beds = Number(args.beds);
const seconds = Number(args.seconds);

const root = new URL('../', import.meta.url).pathname;
const built = spawnSync(process.execPath, ['--import', 'tsx', 'web/ensure-built.ts'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(1);

const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-bench-'));
const admin = { email: 'bench@wardpulse.local', password: 'bench-password-1' };
const server = await startServer(
  loadConfig({ HTTP_PORT: '0', MQTT_PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, LOG_LEVEL: 'warn' }),
);
const base = `http://127.0.0.1:${server.httpPort}`;
const fleetFile = await provisionFleet({ baseUrl: base, email: admin.email, password: admin.password, ward: 'BENCH', beds, seed: 11 });
const fleet = await startFleet({ mqttUrl: `mqtt://127.0.0.1:${server.mqttPort}`, devices: fleetFile.devices, scenario: 'mixed', seed: 11, rate: Number(args.rate) });
await fleet.waitConnected(20_000);

// A display-only account, as a wall display would use.
const login = async (email: string, password: string) =>
  (await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).json()) as { token: string };
const { token } = await login(admin.email, admin.password);
await fetch(`${base}/api/auth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ email: 'wall@wardpulse.local', name: 'Wall display', password: 'wall-display-1', role: 'kiosk' }),
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
await page.goto(`${base}/login`);
await page.getByLabel('E-mail').fill('wall@wardpulse.local');
await page.getByLabel('Password').fill('wall-display-1');
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForTimeout(500);
await page.goto(`${base}/ward/BENCH?kiosk=1`);
await page.waitForFunction(
  `document.querySelector('wp-app')?.shadowRoot?.querySelector('wp-ward-board')?.shadowRoot?.querySelectorAll('wp-bed-tile').length === ${beds}`,
  undefined,
  { timeout: 30_000 },
);
console.log(`warming up ${args.warmup} s …`);
await page.waitForTimeout(Number(args.warmup) * 1000);

const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
const taskDuration = async () => {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'TaskDuration')!.value;
};
// In-page probes as a string: functions compiled by tsx carry helpers the page does not have.
await page.evaluate(`(() => {
  const b = (window.__bench = { frames: 0, dropped: 0, worst: 0, longTasks: 0, longTaskMs: 0 });
  let last = performance.now();
  const frame = (t) => {
    const gap = t - last;
    last = t;
    b.frames++;
    if (gap > (1000 / 60) * 1.5) b.dropped += Math.round(gap / (1000 / 60)) - 1;
    b.worst = Math.max(b.worst, gap);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { b.longTasks++; b.longTaskMs += e.duration; }
  }).observe({ type: 'longtask', buffered: false });
})()`);
const t0 = Date.now();
const busy0 = await taskDuration();
const sent0 = fleet.stats().sent;
await page.waitForTimeout(seconds * 1000);
const busy1 = await taskDuration();
const elapsed = (Date.now() - t0) / 1000;
const sent = fleet.stats().sent - sent0;
const frames = (await page.evaluate('window.__bench')) as {
  frames: number;
  dropped: number;
  worst: number;
  longTasks: number;
  longTaskMs: number;
};
await page.screenshot({ path: join(root, 'bench', 'results', `dashboard-${beds}-beds.png`) });

const result = {
  bench: 'dashboard',
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, model: (await import('node:os')).cpus()[0]?.model },
  beds,
  readingsPerSecond: Math.round(sent / elapsed),
  seconds: Math.round(elapsed),
  mainThreadBusyMsPerSecond: Math.round(((busy1 - busy0) * 1000) / elapsed),
  framesPerSecond: Math.round((frames.frames / elapsed) * 10) / 10,
  droppedFramesPerSecond: Math.round((frames.dropped / elapsed) * 10) / 10,
  worstFrameGapMs: Math.round(frames.worst),
  longTasks: frames.longTasks,
  longTaskMs: Math.round(frames.longTaskMs),
};
console.table(result);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', `dashboard-${beds}-beds.json`), JSON.stringify(result, null, 2) + '\n');

await browser.close();
await fleet.stop();
await server.close();
rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
