// The dashboard in a real headless Chromium against the real server: log in through the page,
// publish vitals over MQTT, watch the tile change, turn high priority, lose its signal, and see
// the patient panel's chart hold points. Screenshots go to test-output/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { type Browser, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { ADMIN, connectDevice, publish, startStack, type Stack } from '../helpers/stack.ts';


describe.skipIf(!haveBrowser)('dashboard in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let device: MqttClient | null = null;
  let patientId = '';
  let deviceId = '';
  let secret = '';

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite');
    ({ patientId, deviceId, secret } = await stack.provision('E2E', '1'));
    await stack.provision('E2E', '2'); // a second, quiet bed
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  });

  afterAll(async () => {
    device?.end(true);
    await browser?.close();
    await stack?.close();
  });

  const tile = () => page.locator('wp-bed-tile').filter({ hasText: 'Patient 1' }).first();

  it('logs in through the page and shows the ward', async () => {
    await page.goto(`${stack.base}/ward/E2E`);
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    await page.screenshot({ path: `${OUT}01-ward-empty.png` });
  });

  it('shows the numbers a device publishes', async () => {
    device = await connectDevice(stack.mqttTcp, deviceId, secret);
    await publish(device, `devices/${deviceId}/vitals`, { seq: 1, hr: 72, spo2: 97, rr: 14, temp: 36.8, sbp: 122, dbp: 78 });
    await expect.poll(() => tile().locator('.v.hr .num').textContent(), { timeout: 5000 }).toMatch(/^72/);
    await publish(device, `devices/${deviceId}/vitals`, { seq: 2, hr: 88, spo2: 96 });
    await expect.poll(() => tile().locator('.v.hr .num').textContent(), { timeout: 5000 }).toMatch(/^88/);
    expect(await tile().locator('.v.spo2 .num').textContent()).toMatch(/^96/);
    expect(await tile().locator('.tile').getAttribute('data-priority')).toBe('none');
    await page.screenshot({ path: `${OUT}02-ward-live.png` });
  });

  it('turns the tile high priority when NEWS2 reaches 7 or more', async () => {
    // RR 26 (3) + SpO2 91 (3) + SBP 95 (2) + HR 135 (3) + temp 39.5 (2) = 13
    // (NEWS2 scores the median of the last minute of streamed values: a few readings, not one.)
    for (const seq of [3, 4, 5]) await publish(device!, `devices/${deviceId}/vitals`, { seq, rr: 26, spo2: 91, sbp: 95, hr: 135, temp: 39.5 });
    await expect.poll(() => tile().locator('.tile').getAttribute('data-priority'), { timeout: 5000 }).toBe('high');
    // Nobody assessed consciousness or oxygen: at least 13, from 5 of the 7 parameters, no band colour.
    await expect.poll(() => tile().locator('.news2').textContent(), { timeout: 5000 }).toContain('NEWS2 ≥ 13 · 5/7');
    expect(await tile().locator('.tile').getAttribute('class')).toContain('prio-high');
    await page.screenshot({ path: `${OUT}03-ward-high-priority.png` });
  });

  it('says "no signal" when the device goes away', async () => {
    (device as unknown as { stream: { destroy(): void } }).stream.destroy();
    await expect.poll(() => tile().locator('.nosignal').textContent().catch(() => ''), { timeout: 10_000 }).toBe('NO SIGNAL');
    expect(await tile().locator('.v.hr').getAttribute('class')).toContain('stale');
    await page.screenshot({ path: `${OUT}04-ward-no-signal.png` });
  });

  it('opens the patient panel and its chart holds the points', async () => {
    device = await connectDevice(stack.mqttTcp, deviceId, secret);
    for (let seq = 10; seq < 15; seq++) await publish(device, `devices/${deviceId}/vitals`, { seq, hr: 70 + seq, spo2: 97 });
    await tile().locator('a.tile').click();
    await page.waitForURL(`**/patient/${patientId}`);
    const hrChart = page.locator('[data-vital="hr"]').first();
    await expect.poll(async () => Number(await hrChart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    // live points keep arriving on the open panel
    const before = Number(await hrChart.getAttribute('data-points'));
    await publish(device, `devices/${deviceId}/vitals`, { seq: 20, hr: 99 });
    await expect.poll(async () => Number(await hrChart.getAttribute('data-points')), { timeout: 5000 }).toBeGreaterThan(before);
    await page.screenshot({ path: `${OUT}05-patient-panel.png`, fullPage: true });
  });

  it('runs a kiosk wall display: display-only account, no navigation, no links to click', async () => {
    const kiosk = await stack.api('POST', '/api/auth/register', { email: 'wall@test.local', name: 'Wall', password: 'wall-display-1', role: 'kiosk', wards: ['E2E'] });
    expect(kiosk.status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const wall = await ctx.newPage();
    await wall.goto(`${stack.base}/ward/E2E?kiosk=1`);
    await wall.getByLabel('E-mail').fill('wall@test.local');
    await wall.getByLabel('Password').fill('wall-display-1');
    await wall.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => wall.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    expect(await wall.getByRole('navigation').count()).toBe(0);
    expect(await wall.locator('wp-bed-tile a').count()).toBe(0);
    expect(await wall.locator('wp-bed-tile article.tile').count()).toBe(2);
    await wall.screenshot({ path: `${OUT}06-kiosk.png` });
    // The trend of each bed comes from the vitals history, which a kiosk still reads on its ward.
    const spark = wall.locator('wp-bed-tile').filter({ hasText: 'Patient 1' }).locator('wp-sparkline');
    await expect.poll(() => spark.evaluate((el) => (el as unknown as { points?: unknown[] }).points?.length ?? 0), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    // a display-only account may watch but not record observations, nor read full records
    const token = await stack.login('wall@test.local', 'wall-display-1');
    const obs = await stack.api('POST', `/api/patients/${patientId}/observations`, { hr: 70 }, token);
    expect(obs.status).toBe(403);
    expect((await stack.api('GET', '/api/patients', undefined, token)).status).toBe(403);

    // An admin moves the display to another ward: the board stops showing this one and says why…
    await stack.provision('E2E-B', '1');
    const moved = await stack.api('PUT', `/api/users/${kiosk.body.id}/wards`, { wards: ['E2E-B'] });
    expect(moved).toMatchObject({ status: 200, body: { wards: ['E2E-B'] } });
    const refusal = wall.locator('wp-ward-board p.empty');
    await expect.poll(() => refusal.textContent().catch(() => ''), { timeout: 15_000 }).toBe("a kiosk may only see the patients of its ward 'E2E-B': not ward 'E2E'");
    expect(await wall.locator('wp-bed-tile').count()).toBe(0);
    await wall.screenshot({ path: `${OUT}07-kiosk-moved.png` });
    // …and shows its new ward.
    await wall.goto(`${stack.base}/ward/E2E-B?kiosk=1`);
    await expect.poll(() => wall.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(1);
    await ctx.close();
  });

  it('shows a banner when its own connection drops and recovers after a server restart', async () => {
    await page.goto(`${stack.base}/ward/E2E`);
    await expect.poll(() => page.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    await stack.server.close();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Connection to the server lost' }).count(), { timeout: 10_000 }).toBe(1);
    await page.screenshot({ path: `${OUT}07-connection-lost.png` });
    // Same ports, data dir and JWT secret: the page reconnects by itself, as a wall display must.
    await stack.restart({ samePorts: true });
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'Connection to the server lost' }).count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    // and live data flows again
    device = await connectDevice(stack.mqttTcp, deviceId, secret);
    await publish(device, `devices/${deviceId}/vitals`, { seq: 30, hr: 66 });
    await expect.poll(() => tile().locator('.v.hr .num').textContent(), { timeout: 5000 }).toMatch(/^66/);
  });
});
