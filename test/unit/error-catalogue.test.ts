// The error catalogue (server/errors.ts) is the one list of codes: api.md's table documents each
// with its status, and no code appears anywhere — server, broker, web, docs — that is not in it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, fail } from '../../server/errors.ts';

const root = join(import.meta.dirname, '..', '..');
const files = (dir: string, ext: RegExp): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const rel = join(dir, name);
    return statSync(join(root, rel)).isDirectory() ? files(rel, ext) : ext.test(name) ? [rel] : [];
  });

describe('the error catalogue', () => {
  const api = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const table = api.slice(api.indexOf('## Errors'), api.indexOf('## Endpoints'));

  it.each(Object.entries(CATALOGUE))('documents %s in api.md with its status', (code, { status }) => {
    expect(table).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });

  it('names no code outside the catalogue, in the code or the docs', () => {
    const used = new Map<string, string>();
    for (const f of [...files('server', /\.ts$/), ...files('broker', /\.ts$/), ...files('web/src', /\.ts$/), ...files('docs', /\.md$/), 'README.md']) {
      for (const m of readFileSync(join(root, f), 'utf8').matchAll(/\bERR_[A-Z0-9_]+\b/g)) used.set(m[0], f);
    }
    // Not API errors: the web client's own code for a non-JSON HTTP failure, and Node's own TLS code.
    for (const other of ['ERR_HTTP', 'ERR_TLS_HANDSHAKE_TIMEOUT']) used.delete(other);
    const unknown = [...used].filter(([code]) => !(code in CATALOGUE)).map(([code, f]) => `${code} (${f})`);
    expect(unknown).toEqual([]);
  });

  it('gives each code its catalogued status', () => {
    for (const [code, { status }] of Object.entries(CATALOGUE)) expect(fail(code as keyof typeof CATALOGUE, 'x').status).toBe(status);
  });
});
