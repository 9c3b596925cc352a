// Helpers for bench/ingest.ts: child processes over IPC, /proc sampling, Prometheus text parsing,
// percentiles. No dependencies beyond Node.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the first message of this type. */
  next<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  /** The latest message of this type. */
  last<T = Record<string, unknown>>(type: string): T | undefined;
  stop(timeoutMs?: number): Promise<void>;
}

export function startChild(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, execArgv: string[] = []): Child {
  const proc = fork(new URL(file, import.meta.url).pathname, args, {
    execArgv: ['--import', 'tsx', ...execArgv],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const latest = new Map<string, unknown>();
  const waiters: { type: string; resolve: (m: unknown) => void }[] = [];
  proc.on('message', (m: { type: string }) => {
    latest.set(m.type, m);
    for (const w of waiters.filter((w) => w.type === m.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    pid: proc.pid!,
    next<T>(type: string, timeoutMs = 120_000) {
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${file}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
        proc.once('exit', (code) => reject(new Error(`${file} exited (${code}) before '${type}'`)));
        waiters.push({ type, resolve: (m) => (clearTimeout(t), resolve(m as T)) });
      });
    },
    last: <T>(type: string) => latest.get(type) as T | undefined,
    async stop(timeoutMs = 30_000) {
      if (proc.exitCode !== null) return;
      proc.send({ type: 'stop' });
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
}

const CLK_TCK = 100; // USER_HZ on Linux x86-64

/** CPU seconds (user + system) and RSS of a process, from /proc (pidusage without the package). */
export function procSample(pid: number): { cpuS: number; rssMb: number; at: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMb: rss ? Number(rss[1]) / 1024 : 0, at: performance.now() };
}

/** Samples a process once a second: CPU % of one core over the window, peak RSS. */
export function procSampler(pid: number) {
  let first = procSample(pid);
  let last = first;
  let peakRss = first.rssMb;
  const timer = setInterval(() => {
    try {
      last = procSample(pid);
      peakRss = Math.max(peakRss, last.rssMb);
    } catch {
      // the process ended
    }
  }, 1000);
  return {
    reset() {
      first = procSample(pid);
      last = first;
      peakRss = first.rssMb;
    },
    result() {
      try {
        last = procSample(pid);
      } catch {
        // keep the last sample
      }
      const s = (last.at - first.at) / 1000;
      return { cpuPct: s > 0 ? Math.round(((last.cpuS - first.cpuS) / s) * 1000) / 10 : 0, rssMb: Math.round(Math.max(peakRss, last.rssMb)) };
    },
    stop: () => clearInterval(timer),
  };
}

export type Metrics = Map<string, number>;

/** Prometheus text format → `name{labels}` → value (labels as written by prom-client). */
export async function scrape(url: string): Promise<Metrics> {
  const text = await (await fetch(url)).text();
  const m: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

export const metric = (m: Metrics, key: string) => m.get(key) ?? 0;
/** Sum of a metric family over its label sets, optionally only those whose labels include `labels`. */
export function metricSum(m: Metrics, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const [key, v] of m) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (labels.length > 0 && !labels.some((l) => key.includes(l))) continue;
    sum += v;
  }
  return sum;
}

/** Quantile of a histogram's growth between two scrapes, as the upper bound of its bucket. */
export function histogramQuantile(before: Metrics, after: Metrics, name: string, labels: string, q: number): number | null {
  const buckets: { le: number; count: number }[] = [];
  for (const [key, v] of after) {
    if (!key.startsWith(`${name}_bucket{`) || !key.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: v - (before.get(key) ?? 0) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const b = buckets.find((x) => x.count >= total * q);
  return b ? b.le : null;
}

export function percentiles(samples: number[]) {
  if (samples.length === 0) return { n: 0, p50: null, p99: null, max: null };
  const s = Float64Array.from(samples).sort();
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: Math.round(s[s.length - 1]!) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Several processes' scrapes as one: every series summed (counters, histogram buckets, gauges that
 * count things). Gauges that are a maximum or a percentile (event-loop p99, commit delay max) must
 * be taken per process instead.
 */
export function sumMetrics(list: readonly Metrics[]): Metrics {
  if (list.length === 1) return list[0]!;
  const out: Metrics = new Map();
  for (const m of list) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

/** Processes whose command line matches (from /proc), e.g. the NATS servers a cluster started. */
export function findProcesses(match: (argv: string[]) => boolean): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (argv.length > 0 && match(argv)) found.push({ pid: Number(entry), argv });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** The whole machine's CPU over a window (/proc/stat): busy % of all cores, and the load averages. */
export function boxSampler() {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    const total = f.slice(0, 8).reduce((a, x) => a + x, 0);
    return { total, idle: f[3]! + f[4]! };
  };
  const first = read();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  return {
    result() {
      const last = read();
      const total = last.total - first.total;
      return { busyPct: total > 0 ? Math.round((1 - (last.idle - first.idle) / total) * 1000) / 10 : 0, cores: cpus().length, loadBefore, loadAfter: loadavg().map((x) => Math.round(x * 100) / 100) };
    },
  };
}
