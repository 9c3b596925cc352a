// The analytics page in a real headless Chromium against the real server: a doctor opens
// /analytics from the navigation, sees the alarms a manual observation raised today, the NEWS2 band
// time and the device table; a nurse has no link. Screenshot in test-output/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe.skipIf(!haveBrowser)('the analytics page in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite');
    for (const role of ['doctor', 'nurse'] as const) {
      const r = await stack.api('POST', '/api/auth/register', { email: `${role}@an-e2e.test`, name: `${role} E2E`, password: 'long-enough-password', role });
      expect(r.status).toBe(201);
    }
    await stack.provision('AN', '1');
    const p = await stack.api('POST', '/api/patients', { name: 'Analytics Patient', ward: 'AN', bed: '2' });
    // A full set scoring high (NEWS2 ≥ 7): a high-priority alarm and time in the high band.
    const o = await stack.api('POST', `/api/patients/${p.body.id}/observations`, { hr: 135, spo2: 89, rr: 28, temp: 39.5, sbp: 88, o2: true, acvpu: 'A' }, await stack.login('nurse@an-e2e.test', 'long-enough-password'));
    expect(o.status).toBe(201);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1300 } });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows a doctor the charts, the device table and the empty states', async () => {
    await page.goto(`${stack.base}/`);
    await page.getByLabel('E-mail').fill('doctor@an-e2e.test');
    await page.getByLabel('Password').fill('long-enough-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Analytics' }).click();
    expect(new URL(page.url()).pathname).toBe('/analytics');
    const chart = (heading: string) => page.locator('wp-stat-chart', { has: page.getByRole('heading', { name: heading }) });
    await expect.poll(() => chart('Alarms per day by priority').locator('canvas').count(), { timeout: 10_000 }).toBe(1);
    expect(await chart('Time in NEWS2 band').locator('canvas').count()).toBe(1);
    // No clinic activity: the empty state, not an empty chart.
    expect(await chart('Clinic appointments per day').getByText('No data in this range.').count()).toBe(1);
    await expect.poll(() => page.locator('wp-analytics tbody tr').count()).toBe(1);
    expect(await page.locator('wp-analytics select option').allTextContents()).toEqual(['All wards', 'Ward AN']);
    await page.screenshot({ path: `${OUT}09-analytics.png`, fullPage: true });

    // A reversed range is refused on the page, before any call.
    await page.locator('input[name="from"]').fill('2026-01-10');
    await page.locator('input[name="to"]').fill('2026-01-01');
    await page.locator('input[name="to"]').dispatchEvent('change');
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('The end date must not be before the start date.');
  });

  it('gives a nurse no link to it', async () => {
    const p2 = await browser.newPage();
    await p2.goto(`${stack.base}/analytics`);
    await p2.getByLabel('E-mail').fill('nurse@an-e2e.test');
    await p2.getByLabel('Password').fill('long-enough-password');
    await p2.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => p2.getByRole('heading', { name: 'Wards' }).count()).toBe(1);
    expect(await p2.getByRole('link', { name: 'Analytics' }).count()).toBe(0);
    expect(await p2.locator('wp-analytics').count()).toBe(0);
    await p2.close();
  });
});
