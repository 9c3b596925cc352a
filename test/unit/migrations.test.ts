// The numbered migrations (db/migrate.ts): one name per number, so two branches that each took the
// next number are caught before the second file silently replaces the first.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '../../db/migrate.ts';

describe('loadMigrations', () => {
  const dirs: string[] = [];
  const dir = (files: Record<string, string>) => {
    const d = mkdtempSync(join(tmpdir(), 'wardpulse-migrations-'));
    dirs.push(d);
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(d, name), sql);
    return `${d}/`; // as MIGRATIONS_DIR: a directory URL's path, with its slash
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads the repository’s migrations in order, one version each', () => {
    const versions = loadMigrations().map((m) => m.version);
    expect(versions.length).toBeGreaterThan(9);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
  });

  it('joins a number’s common, timescale and plain files', () => {
    const [m] = loadMigrations(dir({ '001_init.sql': 'A', '001_init.timescale.sql': 'T', '001_init.plain.sql': 'P', 'README.md': '' }));
    expect(m).toEqual({ version: 1, name: 'init', common: 'A', timescale: 'T', plain: 'P' });
  });

  it('refuses two migrations with one number, naming both', () => {
    const d = dir({ '010_lab.sql': 'A', '010_referrals.sql': 'B' });
    expect(() => loadMigrations(d)).toThrow('two migrations numbered 010: 010_lab and 010_referrals.sql; renumber one');
  });
});
