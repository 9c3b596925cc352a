// The dashboard over HTTPS in a real headless Chromium, under the Content Security Policy: an
// injected inline script or style is blocked and reported, while the real pages (login, ward
// board, patient panel with its charts, alarm list, API docs) raise no violation, their dynamic
// styles apply (through the CSSOM), and live values from an MQTTS device arrive over WSS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { ADMIN, connectDevice, publish, startStack, type Stack } from '../helpers/stack.ts';
import { makeTestPki, type TestPki } from '../helpers/certs.ts';

const WARD = 'CSP';
const NURSE = { email: 'nurse-csp@test.local', name: 'Nina Nurse', password: 'nurse-password-csp-1', role: 'nurse' };

// Browser globals inside page.evaluate callbacks (this project compiles tests without the DOM lib).
declare const window: { __csp?: string[]; __injected?: boolean };
declare const document: { addEventListener(type: string, fn: (e: CspEvent) => void, capture: boolean): void; createElement(tag: string): BrowserElement; head: BrowserElement; body: BrowserElement };
declare function getComputedStyle(el: unknown): { color: string; backgroundColor: string; gridTemplateColumns: string; getPropertyValue(name: string): string };
interface BrowserElement {
  textContent: string | null;
  setAttribute(name: string, value: string): void;
  append(child: BrowserElement): void;
}
interface CspEvent {
  effectiveDirective: string;
  blockedURI: string;
  sourceFile: string;
  documentURI: string;
  lineNumber: number;
  columnNumber: number;
  sample: string;
}

describe.skipIf(!haveBrowser)('dashboard over HTTPS under the CSP, in headless Chromium', () => {
  let pki: TestPki;
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let device: MqttClient | null = null;
  let bed = { patientId: '', deviceId: '', secret: '' };
  /** Every CSP violation: the `securitypolicyviolation` events of each document, and console reports. */
  const consoleViolations: string[] = [];
  const pageErrors: string[] = [];
  const violations = async () => [...consoleViolations, ...((await page.evaluate(() => window.__csp ?? [])) as string[])];

  beforeAll(async () => {
    prepareDashboard();
    pki = makeTestPki();
    stack = await startStack('pglite', undefined, { TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey }, { ca: pki.ca });
    bed = await stack.provision(WARD, '1');
    await stack.provision(WARD, '2');
    expect((await stack.api('POST', '/api/auth/register', NURSE)).status).toBe(201);
    browser = await launchBrowser();
    // The test CA is not in Chromium's store; the certificate itself is checked by curl in tls.int.test.ts.
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
    // Runs before any page script, in every document (DevTools-injected: not subject to the CSP).
    await context.addInitScript(() => {
      document.addEventListener(
        'securitypolicyviolation',
        (e) => (window.__csp ??= []).push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile || e.documentURI}:${e.lineNumber}:${e.columnNumber} ${e.sample}`),
        true,
      );
    });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) consoleViolations.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    device?.end(true);
    await browser?.close();
    await stack?.close();
    pki?.remove();
  });

  const tile = () => page.locator('wp-bed-tile').filter({ hasText: 'Patient 1' }).first();

  it('is served over HTTPS with the CSP, which blocks and reports an injected inline script and style', async () => {
    expect(stack.base).toMatch(/^https:/);
    const res = await page.goto(`${stack.base}/login`);
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(res!.headers()['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    await page.getByLabel('E-mail').waitFor();
    // What an HTML injection would try: an inline script and an inline style attribute.
    const outcome = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.head.append(s);
      const d = document.createElement('div');
      d.setAttribute('style', 'color: rgb(255, 0, 0)');
      document.body.append(d);
      await new Promise((r) => setTimeout(r, 100));
      return { ran: window.__injected === true, colour: getComputedStyle(d).color, reported: window.__csp ?? [] };
    });
    expect(outcome.ran).toBe(false);
    expect(outcome.colour).not.toBe('rgb(255, 0, 0)');
    expect(outcome.reported).toEqual([expect.stringMatching(/^script-src-elem blocked inline/), expect.stringMatching(/^style-src-attr blocked inline/)]);
    expect(consoleViolations).toEqual([expect.stringMatching(/^Executing inline script violates/), expect.stringMatching(/^Applying inline style violates/)]);
    consoleViolations.length = 0; // the pages below must add none
  });

  it('logs in, shows live values from an MQTTS device and styles the board, with no CSP violation', async () => {
    await page.goto(`${stack.base}/ward/${WARD}`);
    await page.getByLabel('E-mail').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('wp-bed-tile').count(), { timeout: 10_000 }).toBe(2);
    device = await connectDevice(stack.mqttTls, bed.deviceId, bed.secret, { ca: readFileSync(pki.ca) });
    // Streamed as a monitor does (live values are pushed volatile: a busy link may skip one).
    let seq = 0;
    await expect
      .poll(
        async () => {
          const d = device!;
          await publish(d, `devices/${bed.deviceId}/vitals`, { seq: ++seq, hr: 72, spo2: 97, rr: 14, temp: 36.8, sbp: 122, dbp: 78 });
          return tile().locator('.v.hr .num').textContent();
        },
        { timeout: 15_000, interval: 500 },
      )
      .toMatch(/^72/);
    // RR 26 (3) + SpO2 91 (3) + SBP 95 (2) + HR 135 (3) + temp 39.5 (2) = 13: high priority, once
    // these outnumber the normal readings above in the last minute (NEWS2 scores the median).
    await expect
      .poll(
        async () => {
          await publish(device!, `devices/${bed.deviceId}/vitals`, { seq: ++seq, rr: 26, spo2: 91, sbp: 95, hr: 135, temp: 39.5 });
          return tile().locator('.tile').getAttribute('data-priority');
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBe('high');
    // The grid's columns are set through the CSSOM (cssProps), which the CSP does not block.
    const grid = await page.locator('wp-ward-board .grid').evaluate((el) => getComputedStyle(el).gridTemplateColumns);
    expect(grid).not.toBe('none');
    expect(grid.split(' ').length).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: `${OUT}tls-01-ward.png` });
    expect(await violations()).toEqual([]);
  });

  it('opens the patient panel (charts, NEWS2 band colours) and the alarm list with no CSP violation', async () => {
    // A nurse's full observation set completes the score, so the badge takes its band colour.
    const nurse = await stack.login(NURSE.email, NURSE.password);
    const obs = await stack.api('POST', `/api/patients/${bed.patientId}/observations`, { hr: 135, spo2: 91, rr: 26, temp: 39.5, sbp: 95, dbp: 60, o2: false, acvpu: 'A' }, nurse);
    expect(obs.status).toBe(201);
    await tile().locator('a.tile').click();
    await page.waitForURL(`**/patient/${bed.patientId}`);
    const hrChart = page.locator('[data-vital="hr"]').first();
    await expect.poll(async () => Number(await hrChart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await publish(device!, `devices/${bed.deviceId}/vitals`, { seq: 100, hr: 130 });
    await expect.poll(async () => Number(await hrChart.getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const badge = page.locator('wp-patient-panel .news2[data-state="complete"]').first();
    await expect.poll(() => badge.evaluate((el) => getComputedStyle(el).backgroundColor), { timeout: 10_000 }).toBe('rgb(198, 40, 40)'); // BAND_STYLE.high
    await page.screenshot({ path: `${OUT}tls-02-patient.png`, fullPage: true });
    await page.goto(`${stack.base}/ward/${WARD}/alarms`);
    const row = page.locator('wp-alarm-list tr.open').first();
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.evaluate((el) => getComputedStyle(el).getPropertyValue('--prio').trim())).toBe('#d32f2f'); // PRIORITY_STYLE.high
    await page.screenshot({ path: `${OUT}tls-03-alarms.png` });
    expect(await violations()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('shows the API docs styled from their stylesheet, with no CSP violation', async () => {
    await page.goto(`${stack.base}/api/docs`);
    expect(await page.locator('body').evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(11, 18, 32)');
    expect(await page.locator('.op').count()).toBeGreaterThan(10);
    expect(await violations()).toEqual([]);
  });
});
