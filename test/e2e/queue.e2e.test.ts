// The waiting-room queue display in a real headless Chromium against the real server: a kiosk
// account opens /queue/{doctorId}, the doctor calls the next patient over the API, and the page
// shows the token and the name in large type and speaks it (speechSynthesis stubbed to record).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT, haveBrowser, launchBrowser, prepareDashboard } from '../helpers/browser.ts';
import { randomUUID } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack.ts';
import { localNow } from '../../server/records/appointments.ts';


describe.skipIf(!haveBrowser)('queue display in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let doctorId = '';

  beforeAll(async () => {
    prepareDashboard();
    stack = await startStack('pglite');
    const doc = await stack.api('POST', '/api/doctors', { name: 'Dr Grace Hopper', room: '3' });
    doctorId = doc.body.id;
    const today = localNow().date;
    // Today's queue straight into the table: the API refuses past times, and this test must not
    // depend on the hour it runs at.
    for (const [i, name] of ['Ada Lovelace', 'Alan Turing'].entries()) {
      const p = await stack.api('POST', '/api/patients', { name });
      await stack.server.db.driver.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number) VALUES ($1, $2, $3, $4, $5, $6)', [
        randomUUID(),
        p.body.id,
        doctorId,
        today,
        `08:${String(i * 15).padStart(2, '0')}`,
        i + 1,
      ]);
    }
    const kiosk = await stack.api('POST', '/api/auth/register', { email: 'queue-wall@test.local', name: 'Queue wall', password: 'queue-display-1', role: 'kiosk', wards: ['OPD'] });
    expect(kiosk.status).toBe(201);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    // Record what would be spoken instead of speaking it.
    await page.addInitScript(() => {
      const w = globalThis as unknown as { __spoken: string[]; SpeechSynthesisUtterance: unknown };
      w.__spoken = [];
      w.SpeechSynthesisUtterance = class {
        rate = 1;
        constructor(readonly text: string) {}
      };
      Object.defineProperty(globalThis, 'speechSynthesis', {
        configurable: true,
        value: { speak: (u: { text: string }) => w.__spoken.push(u.text), cancel: () => undefined },
      });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const spoken = () => page.evaluate(() => (globalThis as unknown as { __spoken: string[] }).__spoken);

  it('logs in as a kiosk and shows the idle queue', async () => {
    await page.goto(`${stack.base}/queue/${doctorId}?kiosk=1`);
    await page.getByLabel('E-mail').fill('queue-wall@test.local');
    await page.getByLabel('Password').fill('queue-display-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('wp-queue-display footer').textContent(), { timeout: 10_000 }).toContain('2 waiting');
    expect(await page.locator('wp-queue-display .idle').textContent()).toContain('Please wait');
    expect(await page.getByRole('navigation').count()).toBe(0);
    expect(await spoken()).toEqual([]);
  });

  it('shows and announces the called token when the doctor calls the next patient', async () => {
    const r = await stack.api('POST', `/api/queue/${doctorId}/next`);
    expect(r.status).toBe(200);
    await expect.poll(() => page.locator('wp-queue-display .token').textContent().catch(() => ''), { timeout: 5000 }).toBe('1');
    expect(await page.locator('wp-queue-display .name').textContent()).toBe('Ada L.');
    expect(await page.locator('wp-queue-display header').textContent()).toContain('Room 3');
    await expect.poll(spoken, { timeout: 5000 }).toEqual(['Token 1, Ada L., room 3']);
    // very large type: the token is most of the screen's height
    const box = await page.locator('wp-queue-display .token').boundingBox();
    expect(box!.height).toBeGreaterThan(150);
    await page.screenshot({ path: `${OUT}queue.png` });

    await stack.api('POST', `/api/queue/${doctorId}/next`);
    await expect.poll(() => page.locator('wp-queue-display .token').textContent(), { timeout: 5000 }).toBe('2');
    await expect.poll(spoken, { timeout: 5000 }).toEqual(['Token 1, Ada L., room 3', 'Token 2, Alan T., room 3']);
    expect(await page.locator('wp-queue-display footer').textContent()).toContain('0 waiting');
  });

  it('can be set up by room number instead of doctor id', async () => {
    await page.goto(`${stack.base}/queue/3?kiosk=1`);
    await expect.poll(() => page.locator('wp-queue-display header').textContent().catch(() => ''), { timeout: 10_000 }).toContain('Room 3');
    await expect.poll(() => page.locator('wp-queue-display .token').textContent().catch(() => ''), { timeout: 5000 }).toBe('2');
    await page.goto(`${stack.base}/queue/${doctorId}?kiosk=1`);
    await expect.poll(() => page.locator('wp-queue-display .token').textContent().catch(() => ''), { timeout: 5000 }).toBe('2');
  });

  it('reconnects by itself after a server restart and keeps announcing', async () => {
    await stack.server.close();
    await expect.poll(() => page.locator('wp-queue-display .offline').count(), { timeout: 10_000 }).toBe(1);
    await stack.restart({ samePorts: true });
    await expect.poll(() => page.locator('wp-queue-display .offline').count(), { timeout: 20_000 }).toBe(0);
    const p = await stack.api('POST', '/api/patients', { name: 'Edsger Dijkstra' });
    await stack.server.db.driver.query('INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number, priority) VALUES ($1, $2, $3, $4, $5, 3, $6)', [
      randomUUID(),
      p.body.id,
      doctorId,
      localNow().date,
      '09:00',
      'urgent',
    ]);
    expect((await stack.api('POST', `/api/queue/${doctorId}/next`)).status).toBe(200);
    await expect.poll(() => page.locator('wp-queue-display .token').textContent(), { timeout: 5000 }).toBe('3');
    expect(await page.locator('wp-queue-display .name').textContent()).toBe('Edsger D.');
    await expect.poll(async () => (await spoken()).at(-1), { timeout: 5000 }).toBe('Token 3, Edsger D., room 3');
  });
});
