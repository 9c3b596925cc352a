// Auditory alarm signals in a real headless Chromium against the real server. The page's Web Audio
// is instrumented (every oscillator's start and stop on the AudioContext clock), so the test counts
// the pulses of each burst and their spacing. With --autoplay-policy=no-user-gesture-required (the
// kiosk launch line): a device drives HR to 35 (a high limit alarm) and the ward board plays the
// ten-pulse high-priority burst, repeated (cutting off any medium burst that came first);
// silencing the alarm over REST stops it at once and no burst follows; a second bed at HR 130 (a
// medium limit alarm) plays the three-pulse medium burst; the patient panel sounds only its own
// patient's alarms, and muting it says so in large type and ends with a reload. Without the flag
// the page shows the large "sound off — click to enable" button, and a click turns the sound on.
// Screenshots go to test-output/e2e/audio-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { connectDevice, publish, startStack, type Stack } from '../helpers/stack.ts';
import { PATTERNS, burstPeriodMs, type BurstPattern } from '../../web/src/logic/alarm-sound.ts';


const WARD = 'AUD';
const NURSE = { email: 'nurse@test.local', name: 'Nora Nurse', password: 'nurse-password-1', role: 'nurse' };
const AUTOPLAY = '--autoplay-policy=no-user-gesture-required';
const NORMAL = { spo2: 97, rr: 14, temp: 36.8, sbp: 122, dbp: 78 };

/**
 * Runs in the page before its scripts: records every oscillator pulse on the AudioContext clock.
 * (A string: this file is type-checked without the DOM library.)
 */
const INSTRUMENT_AUDIO = `(() => {
  const log = { pulses: [], contexts: [] };
  window.__audio = log;
  const proto = AudioScheduledSourceNode.prototype;
  const start = proto.start;
  const stop = proto.stop;
  proto.start = function (when = 0) {
    if (this instanceof OscillatorNode) {
      this.__rec = { start: Math.max(when, this.context.currentTime), stop: null, freq: this.frequency.value };
      log.pulses.push(this.__rec);
    }
    return start.call(this, when);
  };
  // The last stop() is the one that counts (Web Audio): a cancelled pulse gets an earlier one.
  proto.stop = function (when = 0) {
    if (this.__rec) this.__rec.stop = Math.max(when, this.context.currentTime);
    return stop.call(this, when);
  };
  const Native = window.AudioContext;
  window.AudioContext = class extends Native {
    constructor(opts) {
      super(opts);
      log.contexts.push(this);
    }
  };
})();`;

/** Logged in without touching the page: a click would be the user gesture autoplay waits for. */
const loggedIn = (token: string, user: unknown) =>
  `sessionStorage.setItem('wardpulse.token', ${JSON.stringify(token)}); sessionStorage.setItem('wardpulse.user', ${JSON.stringify(JSON.stringify(user))});`;

interface Pulse {
  start: number;
  stop: number;
  freq: number;
}

/** The pulses that make a sound (not cancelled before they started), in time order. */
async function pulses(page: Page): Promise<Pulse[]> {
  const all = await page.evaluate<{ start: number; stop: number | null; freq: number }[]>('window.__audio.pulses.map((p) => ({ ...p }))');
  return all
    .filter((p): p is Pulse => p.stop !== null && p.stop > p.start + 0.001)
    .sort((a, b) => a.start - b.start);
}

async function audioNow(page: Page): Promise<number> {
  return page.evaluate<number>('window.__audio.contexts.at(-1)?.currentTime ?? 0');
}

/** Pulses less than 1.5 s apart belong to one burst (the shortest gap between bursts is 5 s). */
function bursts(list: Pulse[]): Pulse[][] {
  const out: Pulse[][] = [];
  for (const p of list) {
    const cur = out[out.length - 1];
    if (cur && p.start - cur[cur.length - 1]!.start < 1.5) cur.push(p);
    else out.push([p]);
  }
  return out;
}

function expectPattern(burst: Pulse[], pattern: BurstPattern): void {
  expect(burst.map((p) => Math.round((p.start - burst[0]!.start) * 1000))).toEqual([...pattern.onsetsMs]);
  for (const p of burst) {
    expect(p.stop - p.start).toBeCloseTo(pattern.pulseMs / 1000, 3);
    expect(p.freq).toBeCloseTo(pattern.frequencyHz, 1);
  }
}

describe.skipIf(!haveBrowser)('auditory alarm signals in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const devices: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  let bed1 = { patientId: '', deviceId: '', secret: '' };
  let bed2 = { patientId: '', deviceId: '', secret: '' };
  let nurse = { token: '', user: {} as unknown };
  const errors: string[] = [];

  /** Publish `values` every second from the bed's device (what a monitor does); replaces any earlier stream. */
  const streams = new Map<string, { values: Record<string, number> }>();
  async function stream(bed: { deviceId: string; secret: string }, values: Record<string, number>): Promise<void> {
    const known = streams.get(bed.deviceId);
    if (known) {
      known.values = values;
      return;
    }
    const d = await connectDevice(stack.mqttTcp, bed.deviceId, bed.secret);
    devices.push(d);
    const s = { values };
    streams.set(bed.deviceId, s);
    let seq = 0;
    const send = () => publish(d, `devices/${bed.deviceId}/vitals`, { seq: ++seq, ...s.values }).catch(() => undefined);
    await send();
    timers.push(setInterval(send, 1000));
  }

  async function open(ctx: BrowserContext, path: string): Promise<Page> {
    const p = await ctx.newPage();
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${stack.base}${path}`);
    return p;
  }

  const control = (p: Page) => p.locator('wp-sound-control .control');

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite');
    bed1 = await stack.provision(WARD, '1');
    bed2 = await stack.provision(WARD, '2');
    expect((await stack.api('POST', '/api/auth/register', NURSE)).status).toBe(201);
    const login = await stack.api('POST', '/api/auth/login', { email: NURSE.email, password: NURSE.password }, null);
    nurse = { token: login.body.token, user: login.body.user };
    browser = await launchBrowser([AUTOPLAY]);
    context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await context.addInitScript({ content: loggedIn(nurse.token, nurse.user) });
    await context.addInitScript({ content: INSTRUMENT_AUDIO });
  });

  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    for (const d of devices) d.end(true);
    await browser?.close();
    await stack?.close();
  });

  it('is quiet with sound on while nothing alarms', async () => {
    page = await open(context, `/ward/${WARD}`);
    await expect.poll(() => page.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => control(page).getAttribute('data-state'), { timeout: 5000 }).toBe('quiet');
    expect(await control(page).textContent()).toContain('sound on');
    expect(await pulses(page)).toHaveLength(0);
  });

  it('plays the ten-pulse high-priority burst, repeated, for a high alarm (HR 35 for 10 s)', { timeout: 90_000 }, async () => {
    await stream(bed1, { hr: 35, ...NORMAL });
    await expect.poll(() => control(page).getAttribute('data-priority'), { timeout: 40_000 }).toBe('high');
    expect(await control(page).getAttribute('data-state')).toBe('playing');
    // Before the 10 s limit delay the bed may already have a medium alarm (NEWS2): its burst plays
    // first and gives way to high at once. The high pulses: the first burst now, the second one period later.
    const high = async () => (await pulses(page)).filter((p) => Math.abs(p.stop - p.start - PATTERNS.high.pulseMs / 1000) < 0.001);
    await expect.poll(async () => (await high()).length, { timeout: 20_000 }).toBeGreaterThanOrEqual(20);
    const [first, second] = bursts(await high());
    expectPattern(first!, PATTERNS.high);
    expectPattern(second!, PATTERNS.high);
    expect(second![0]!.start - first![0]!.start).toBeCloseTo(burstPeriodMs(PATTERNS.high) / 1000, 2);
    // Nothing else sounds over the high bursts: any earlier pattern was cut off when high began.
    const before = (await pulses(page)).filter((p) => p.start < first![0]!.start);
    expect(before.every((p) => p.stop <= first![0]!.start)).toBe(true);
    await page.screenshot({ path: `${OUT}audio-01-ward-high.png` });
  });

  let silencedAt = 0;

  it('stops at once when the alarm is silenced, and shows the countdown', async () => {
    const open = await stack.api('GET', `/api/alerts?patientId=${bed1.patientId}&state=active`, undefined, nurse.token);
    const loud = (open.body.items as { id: string; priority: string }[]).filter((a) => a.priority !== 'low');
    expect(loud.length).toBeGreaterThan(0);
    for (const a of loud) expect((await stack.api('POST', `/api/alerts/${a.id}/silence`, {}, nurse.token)).status).toBe(200);
    await expect.poll(() => control(page).getAttribute('data-state'), { timeout: 5000 }).toBe('quiet');
    silencedAt = await audioNow(page);
    expect(await control(page).locator('.paused').textContent()).toMatch(/high paused [12]:\d\d/);
    // Nothing still scheduled may sound: every later pulse was cancelled before it started.
    expect((await pulses(page)).filter((p) => p.start > silencedAt + 0.05)).toHaveLength(0);
  });

  it('plays the three-pulse medium burst for a medium alarm on another bed (HR 130 for 10 s), and no high burst came back', { timeout: 90_000 }, async () => {
    await stream(bed2, { hr: 130, ...NORMAL });
    await expect.poll(() => control(page).getAttribute('data-priority'), { timeout: 40_000 }).toBe('medium');
    expect(await control(page).getAttribute('data-state')).toBe('playing');
    await expect.poll(async () => (await pulses(page)).filter((p) => p.start > silencedAt).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const after = (await pulses(page)).filter((p) => p.start > silencedAt);
    // The 10 s alarm delay is longer than the high burst's period: a high burst would have recurred.
    expect(after[0]!.start - silencedAt).toBeGreaterThan(burstPeriodMs(PATTERNS.high) / 1000);
    const [first] = bursts(after);
    expectPattern(first!, PATTERNS.medium);
    expect(after.every((p) => Math.abs(p.stop - p.start - PATTERNS.medium.pulseMs / 1000) < 0.001)).toBe(true);
    await page.screenshot({ path: `${OUT}audio-02-ward-medium.png` });
  });

  it("the patient panel sounds only its own patient's alarms", async () => {
    // Bed 1: its high alarm is silenced, its low one (NEWS2 single parameter 3) does not sound.
    const p1 = await open(context, `/patient/${bed1.patientId}`);
    await expect.poll(() => control(p1).getAttribute('data-state'), { timeout: 10_000 }).toBe('quiet');
    await expect.poll(() => control(p1).locator('.paused').textContent().catch(() => ''), { timeout: 5000 }).toMatch(/high paused [12]:\d\d/);
    expect(await pulses(p1)).toHaveLength(0);
    await p1.close();
    // Bed 2: its medium alarm.
    const p2 = await open(context, `/patient/${bed2.patientId}`);
    await expect.poll(() => control(p2).getAttribute('data-priority'), { timeout: 10_000 }).toBe('medium');
    await expect.poll(async () => (await pulses(p2)).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expectPattern(bursts(await pulses(p2))[0]!, PATTERNS.medium);
    await p2.screenshot({ path: `${OUT}audio-03-patient-medium.png` });
    // Muting this display: said in large type, stops the sound at once, and does not survive a reload.
    await p2.getByRole('button', { name: 'Mute' }).click();
    await expect.poll(() => control(p2).getAttribute('data-state'), { timeout: 5000 }).toBe('muted');
    const mutedAt = await audioNow(p2);
    expect(await p2.getByRole('button', { name: /sound muted — click to unmute/ }).isVisible()).toBe(true);
    expect((await pulses(p2)).filter((p) => p.start > mutedAt + 0.05)).toHaveLength(0);
    await p2.screenshot({ path: `${OUT}audio-04-patient-muted.png` });
    await p2.reload();
    await expect.poll(() => control(p2).getAttribute('data-state'), { timeout: 10_000 }).toBe('playing');
    await p2.close();
  });

  it('without the autoplay flag a kiosk shows "sound off — click to enable"; a click turns the sound on', { timeout: 60_000 }, async () => {
    const plain = await launchBrowser();
    try {
      const ctx = await plain.newContext({ viewport: { width: 1920, height: 1080 } });
      await ctx.addInitScript({ content: loggedIn(nurse.token, nurse.user) });
      await ctx.addInitScript({ content: INSTRUMENT_AUDIO });
      const p = await open(ctx, `/ward/${WARD}?kiosk=1`);
      await expect.poll(() => p.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
      await expect.poll(() => control(p).getAttribute('data-state'), { timeout: 5000 }).toBe('blocked');
      const button = p.getByRole('button', { name: /sound off — click to enable/ });
      await expect.poll(() => button.isVisible(), { timeout: 5000 }).toBe(true);
      // Bed 2's medium alarm is open: the page says what the room is not hearing.
      await expect.poll(() => button.textContent(), { timeout: 5000 }).toContain('a medium priority alarm is not heard');
      // The button sits above the grid, not over a bed.
      const b = (await button.boundingBox())!;
      const firstTile = (await p.locator('wp-bed-tile').first().boundingBox())!;
      expect(b.y + b.height).toBeLessThanOrEqual(firstTile.y);
      await p.screenshot({ path: `${OUT}audio-05-kiosk-blocked.png` });
      await button.click();
      await expect.poll(() => control(p).getAttribute('data-state'), { timeout: 5000 }).toBe('playing');
      expect(await control(p).textContent()).toContain('sound on');
      await expect.poll(async () => (await pulses(p)).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expectPattern(bursts(await pulses(p))[0]!, PATTERNS.medium);
      await p.screenshot({ path: `${OUT}audio-06-kiosk-enabled.png` });
    } finally {
      await plain.close();
    }
    expect(errors).toEqual([]);
  });
});
