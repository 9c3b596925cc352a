// Run before `npm start` and `npm run demo`: build the dashboard when web/dist is missing or older
// than its sources, so a newcomer's `npm ci && npm start` always serves the current dashboard.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
const stamp = join(web, 'dist', '.built');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

const sources = Math.max(newest(join(web, 'src')), newest(join(web, 'index.html')), newest(join(web, 'vite.config.ts')), newest(join(web, '..', 'server', 'domain')));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (process.argv.includes('--force') || built < sources) {
  console.log('building the dashboard (web/dist) …');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(stamp, new Date().toISOString() + '\n');
} 
