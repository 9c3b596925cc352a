// Two-factor sign-in through the dashboard in a real headless Chromium against the real server
// (REQUIRE_2FA_ROLES=doctor): a doctor's first login sets up an authenticator from the key the page
// shows (the code computed by otpauth, as a phone app would), sees the recovery codes, is signed
// in; the next login asks for a code; a recovery code works once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

const EMAIL = 'dr.e2e@test.local';
const PASSWORD = 'doctor-e2e-pass-word';
const codeAt = (secret: string, offset = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + offset * 30_000 });
async function freshStep(): Promise<void> {
  const left = TOTP.remaining({ period: 30 });
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 200));
}

describe.skipIf(!haveBrowser)('two-factor sign-in in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite', undefined, { REQUIRE_2FA_ROLES: 'doctor' });
    expect((await stack.api('POST', '/api/auth/register', { email: EMAIL, name: 'Dr E2E', password: PASSWORD, role: 'doctor' })).status).toBe(201);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function passwordStep(page: Page): Promise<void> {
    await page.goto(`${stack.base}/`);
    await page.getByLabel('E-mail').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  const signedIn = (page: Page) => expect.poll(() => page.evaluate<string | null>("sessionStorage.getItem('wardpulse.token')"), { timeout: 10_000 }).toBeTruthy();

  it('enrols a doctor at the first login from the key the page shows', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await freshStep();
    await passwordStep(page);
    await expect.poll(() => page.getByRole('heading', { name: 'Set up two-step sign-in' }).count(), { timeout: 10_000 }).toBe(1);
    secret = (await page.getByLabel('Secret key').textContent())!.replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.getByLabel('otpauth link').textContent()).toContain(`secret=${secret}`);
    await page.screenshot({ path: `${OUT}2fa-01-enrol.png` });
    await page.getByLabel('Code from the app').fill(codeAt(secret, -1));
    await page.getByRole('button', { name: 'Turn on and sign in' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Save your recovery codes' }).count(), { timeout: 10_000 }).toBe(1);
    recoveryCodes = await page.locator('wp-login ol li').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.screenshot({ path: `${OUT}2fa-02-recovery-codes.png` });
    await page.getByRole('button', { name: /I have saved them/ }).click();
    await signedIn(page);
    await expect.poll(() => page.locator('wp-login').count(), { timeout: 10_000 }).toBe(0);
    await page.close();
  });

  it('asks for a code at the next login: a wrong one is refused on the page, the current one signs in', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await passwordStep(page);
    await expect.poll(() => page.getByRole('heading', { name: 'Two-step sign-in' }).count(), { timeout: 10_000 }).toBe(1);
    const taken = new Set([-1, 0, 1].map((o) => codeAt(secret, o)));
    const wrong = ['000000', '111111', '222222'].find((c) => !taken.has(c))!;
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/not a current code/);
    await page.screenshot({ path: `${OUT}2fa-03-wrong-code.png` });
    await page.getByLabel('Code').fill(codeAt(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await signedIn(page);
    await page.close();
  });

  it('takes a recovery code once', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await passwordStep(page);
    await page.getByLabel('Code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await signedIn(page);
    await page.close();

    const again = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await passwordStep(again);
    await again.getByLabel('Code').fill(recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => again.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/not a current code|already used/);
    expect(await again.evaluate<string | null>("sessionStorage.getItem('wardpulse.token')")).toBeNull();
    await again.close();
  });
});
