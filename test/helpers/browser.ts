// Headless Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core.
// Without the browser the e2e files skip, unless WARDPULSE_REQUIRE_BROWSER says it must be here (CI).
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of the e2e runs (git-ignored). */
export const OUT = new URL('../../test-output/e2e/', import.meta.url).pathname;
export const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.WARDPULSE_REQUIRE_BROWSER) throw new Error(`${CHROMIUM} is required here (apt-get install chromium)`);

/** Without background networking: this machine's closed network refuses Chromium's own connections. */
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Build the dashboard if it is missing or older than its sources, and make the screenshot folder. */
export function prepareDashboard(): void {
  const build = spawnSync(process.execPath, ['--import', 'tsx', 'web/ensure-built.ts'], { cwd: new URL('../../', import.meta.url).pathname, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`dashboard build failed: ${build.stderr}`);
  mkdirSync(OUT, { recursive: true });
}

export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...BROWSER_ARGS, ...extraArgs] });
}
