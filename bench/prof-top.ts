// Top entries of a V8 CPU profile (node --cpu-prof), by self time, by function and by package or
// source folder — what bench/README.md quotes for a profiled step.
//   npx tsx bench/prof-top.ts bench/results/prof/server-postgres-5000/CPU.….cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  // --from/--to: seconds since the profile started (the bench prints profileWindowS for its step).
  options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' } },
});
const from = values.from === undefined ? -Infinity : Number(values.from) * 1e6;
const to = values.to === undefined ? Infinity : Number(values.to) * 1e6;
process.stdout.on('error', () => process.exit(0));
const top = Number(values.top);
for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  p.samples.forEach((id, i) => {
    t += p.timeDeltas[i] ?? 0;
    if (t >= from && t <= to) self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const where = (url: string) => {
    if (url === '') return '(native/V8)';
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 13).split('/');
      return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    }
    if (url.startsWith('node:')) return url;
    const m = /\/(server|broker|db|bench|simulator)\/(.*)$/.exec(url);
    return m ? `${m[1]}/${m[2]}` : url;
  };
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const w = where(n.callFrame.url);
    const name = `${n.callFrame.functionName || '(anonymous)'}  ${w}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + t);
    const file = /^(server|broker|db)\//.test(w) ? w : w.split(':')[0]!;
    pkg.set(file, (pkg.get(file) ?? 0) + t);
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1)} %`;
  const wall = (p.endTime - p.startTime) / 1e6;
  console.log(`\n${file}\n${(total / 1e6).toFixed(1)} s sampled (of ${wall.toFixed(1)} s wall)\n\nby function (self):`);
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t).padStart(7)}  ${k}`);
  // Inclusive time of our own functions (self + callees), a function counted once per stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, t] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const w = where(n.callFrame.url);
      if (!/^(server|broker|db)\//.test(w)) continue;
      const name = `${n.callFrame.functionName || '(anonymous)'}  ${w}`;
      if (seen.has(name)) continue;
      seen.add(name);
      incl.set(name, (incl.get(name) ?? 0) + t);
    }
  }
  console.log('\nour functions, inclusive (self + callees):');
  for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t).padStart(7)}  ${k}`);
  console.log('\nby package or source file (self):');
  for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t).padStart(7)}  ${k}`);
}
