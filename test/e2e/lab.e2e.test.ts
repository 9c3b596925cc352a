// The patient panel's lab results in a real headless Chromium against the real server: a nurse
// opens the panel of a patient with resulted orders and sees each result with its flag; the lab
// enters a critical result meanwhile and the panel shows its high-priority alarm live (saying it
// waits to be taken in) and, reloaded with it, the result flagged HH. Screenshot in test-output/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

describe.skipIf(!haveBrowser)('lab results on the patient panel in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let patientId = '';
  const tok = { doctor: '', nurse: '', lab: '' };
  const tests = { k: '', na: '' };

  const account = async (role: 'doctor' | 'nurse' | 'lab') => {
    const email = `${role}@lab-e2e.test`;
    expect((await stack.api('POST', '/api/auth/register', { email, name: `${role} E2E`, password: 'long-enough-password', role })).status).toBe(201);
    tok[role] = await stack.login(email, 'long-enough-password');
  };
  const resulted = async (values: [string, number][]) => {
    const o = await stack.api('POST', '/api/lab-orders', { patientId, tests: values.map(([id]) => id), priority: 'urgent' }, tok.doctor);
    expect(o.status).toBe(201);
    expect((await stack.api('PUT', `/api/lab-orders/${o.body.id}/collect`, undefined, tok.nurse)).status).toBe(200);
    const r = await stack.api('PUT', `/api/lab-orders/${o.body.id}/results`, { results: values.map(([testId, value]) => ({ testId, value })) }, tok.lab);
    expect(r.status).toBe(200);
  };

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite');
    for (const role of ['doctor', 'nurse', 'lab'] as const) await account(role);
    patientId = (await stack.api('POST', '/api/patients', { name: 'Lab Panel', ward: 'LE', bed: '3' })).body.id;
    tests.k = (await stack.api('POST', '/api/lab-tests', { code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 }, tok.lab)).body.id;
    tests.na = (await stack.api('POST', '/api/lab-tests', { code: '2951-2', name: 'Sodium', unit: 'mmol/L', specimen: 'serum', referenceLow: 135, referenceHigh: 145, criticalLow: 120, criticalHigh: 160 }, tok.lab)).body.id;
    await resulted([
      [tests.k, 4.4],
      [tests.na, 131],
    ]);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('lists the results with their flags, and a critical one arrives as a high-priority alarm', async () => {
    await page.goto(`${stack.base}/patient/${patientId}`);
    await page.getByLabel('E-mail').fill('nurse@lab-e2e.test');
    await page.getByLabel('Password').fill('long-enough-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const rows = page.locator('wp-lab-results tbody tr');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    expect(await rows.locator('.flag').allTextContents()).toEqual(['N', 'L']);

    // The lab enters a critical potassium while the nurse watches.
    await resulted([[tests.k, 7.2]]);
    const alarm = page.locator('li.active-alarm[data-priority="high"]');
    await expect.poll(() => alarm.count(), { timeout: 10_000 }).toBe(1);
    expect(await alarm.locator('.msg').textContent()).toContain('Critical lab result: Potassium 7.2 mmol/L (HH');
    expect(await alarm.locator('.cleared').textContent()).toBe('critical lab result — acknowledge once a clinician has it');
    // The table follows (reloaded with the alarm): the newest result first, flagged HH.
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    expect(await rows.first().getAttribute('data-level')).toBe('critical');
    expect(await rows.first().locator('.flag').textContent()).toBe('HH');
    await page.screenshot({ path: `${OUT}08-patient-panel-lab.png`, fullPage: true });
  });
});
