// "My vitals" (a patient account's own page): the last 24 h per vital from 5-minute buckets, and the
// newest value of each, marked stale by the same freshness windows as the ward board. Pure.
import { isStale, formatAge, type DisplayFreshness } from './freshness.ts';
import { DEFAULT_FRESHNESS } from '../../../server/domain/index.ts';
import type { XY } from './panel-series.ts';

export const MY_VITALS = [
  { key: 'hr', heading: 'Heart rate', unit: '/min', digits: 0 },
  { key: 'spo2', heading: 'SpO₂', unit: '%', digits: 0 },
  { key: 'rr', heading: 'Breathing rate', unit: '/min', digits: 0 },
  { key: 'temp', heading: 'Temperature', unit: '°C', digits: 1 },
  { key: 'sbp', heading: 'Systolic blood pressure', unit: 'mmHg', digits: 0 },
] as const;
export type MyVital = (typeof MY_VITALS)[number]['key'];

export interface Bucket {
  ts: string;
  values: Partial<Record<string, number>>;
}
export interface RawReading {
  ts: string | number;
  source: string;
  values: Partial<Record<string, unknown>>;
}

/** One chart series per vital: a point per bucket that has the vital. */
export function seriesOf(buckets: readonly Bucket[]): Record<MyVital, XY[]> {
  const out = Object.fromEntries(MY_VITALS.map((v) => [v.key, [] as XY[]])) as Record<MyVital, XY[]>;
  for (const b of buckets) {
    const x = Date.parse(b.ts);
    for (const v of MY_VITALS) {
      const y = b.values[v.key];
      if (typeof y === 'number') out[v.key].push({ x, y });
    }
  }
  return out;
}

export interface Latest {
  value: number;
  ts: number;
  stale: boolean;
  /** "4m ago" when stale, else ''. */
  age: string;
}

/** The newest value of each vital among raw readings (any order), stale past its window. */
export function latestOf(readings: readonly RawReading[], now: number, f: DisplayFreshness = DEFAULT_FRESHNESS): Partial<Record<MyVital, Latest>> {
  const out: Partial<Record<MyVital, Latest>> = {};
  for (const r of readings) {
    const ts = typeof r.ts === 'number' ? r.ts : Date.parse(r.ts);
    for (const v of MY_VITALS) {
      const value = r.values[v.key];
      if (typeof value !== 'number') continue;
      const prev = out[v.key];
      if (prev && prev.ts >= ts) continue;
      const stale = isStale({ ts, source: r.source }, v.key, now, f);
      out[v.key] = { value, ts, stale, age: stale ? `${formatAge(now - ts)} ago` : '' };
    }
  }
  return out;
}

/** The score line: "NEWS2 3 · low-medium", with "(not current)" when the server says it is stale. */
export function scoreText(score: { news2: { total: number; band: string; partial?: boolean }; stale?: boolean } | null): string {
  if (!score) return 'No NEWS2 score yet';
  const s = score.news2;
  return `NEWS2 ${s.partial ? '≥ ' : ''}${s.total} · ${s.band}${score.stale ? ' (not current)' : ''}`;
}
