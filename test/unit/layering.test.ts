// Architecture rule (docs/decisions/0020-neutral-domain-module.md): the neutral domain module
// server/domain imports nothing outside itself; db/, broker/ and the dashboard (web/src) reach
// into server/ only through it; the dashboard imports neither db/ nor broker/. Every import
// statement of every source file is read with TypeScript's own pre-processor (static, type-only,
// re-exports, dynamic `import()`, `require`), so multi-line and `import type` count as well.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;
const SKIP = new Set(['node_modules', 'dist']);

interface Import {
  /** The importing file, relative to the repository root, with `/`. */
  file: string;
  specifier: string;
  /** The imported path relative to the repository root, with `/`; null for a package or `node:` module. */
  target: string | null;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every import of every source file under `dir`. */
function importsUnder(dir: string): Import[] {
  return sourceFiles(dir).flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')));
}

function importsOf(file: string, text: string): Import[] {
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier }) => {
    const local = specifier.startsWith('.') || specifier.startsWith('/');
    const target = local ? relative(ROOT, resolve(ROOT, dirname(file), specifier)).split(sep).join('/') : null;
    return { file, specifier, target };
  });
}

const inside = (target: string | null, dir: string) => target !== null && (target === dir || target.startsWith(`${dir}/`));
const show = (list: Import[]) => list.map((i) => `${i.file}: '${i.specifier}'`);

describe('layering', () => {
  it('(a) server/domain imports nothing: no package, no node: module, nothing outside server/domain', () => {
    const imports = importsUnder('server/domain');
    expect(imports.length).toBeGreaterThan(0); // index.ts re-exports its siblings
    expect(show(imports.filter((i) => !inside(i.target, 'server/domain')))).toEqual([]);
  });

  it('(b) db/, broker/ and web/src import nothing from server/ but server/domain', () => {
    const imports = ['db', 'broker', 'web/src'].flatMap(importsUnder);
    const fromServer = imports.filter((i) => inside(i.target, 'server'));
    expect(fromServer.length).toBeGreaterThan(0); // the scan sees the imports it polices
    expect(show(fromServer.filter((i) => !inside(i.target, 'server/domain')))).toEqual([]);
  });

  it('(c) web/src imports nothing from db/ or broker/', () => {
    const imports = importsUnder('web/src');
    expect(show(imports.filter((i) => inside(i.target, 'db') || inside(i.target, 'broker')))).toEqual([]);
  });

  it('the scanner sees every form of import', () => {
    const text = [
      "import type { A } from '../server/pipeline/latest.ts';",
      "import {\n  B,\n} from '../server/http/app.ts';",
      "export * from '../server/auth/tokens.ts';",
      "const c = await import('../server/config.ts');",
      "import 'node:fs';",
      "const s = 'not an import: from \\'../server/x.ts\\'';",
    ].join('\n');
    expect(importsOf('db/example.ts', text).map((i) => i.target ?? i.specifier)).toEqual([
      'server/pipeline/latest.ts',
      'server/http/app.ts',
      'server/auth/tokens.ts',
      'server/config.ts',
      'node:fs',
    ]);
    expect(inside('server/domainx/a.ts', 'server/domain')).toBe(false);
  });
});
