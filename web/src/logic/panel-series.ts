// Chart series of the patient panel: history rows turned into {x: ms, y} points (what Chart.js
// draws with `parsing: false`), live readings appended, and points that left the window dropped.
// Arrays are changed in place: Chart.js keeps a reference to them and only sees the change.
import { bucketStart } from './panel-range.ts';
import { NUMERIC_VITALS, type NumericVital } from '../../../server/domain/index.ts';

/** Every numeric vital has a chart. */
export const CHART_VITALS = NUMERIC_VITALS;
export type ChartVital = NumericVital;

export interface XY {
  /** Epoch ms. */
  x: number;
  y: number;
  /** Readings folded into this point (aggregates). */
  n?: number;
  /** A manual observation (drawn as a dot). */
  m?: true;
}

export interface Series {
  points: XY[];
  /** Newest reading already in `points`, epoch ms: live readings at or before it are not added again. */
  lastTs: number;
}

export interface RawRow {
  ts: string;
  source?: string;
  values: Record<string, unknown>;
}

export interface BucketRow {
  ts: string;
  count: number;
  values: Record<string, unknown>;
}

export interface ScoreRow {
  ts: number;
  news2: { total: number };
}

export function emptySeries(): Series {
  return { points: [], lastTs: -Infinity };
}

/** Raw readings → one series per vital; `lastTs` is the newest reading of each. */
export function seriesFromRaw(rows: readonly RawRow[]): Record<ChartVital, Series> {
  const out = emptyAll();
  for (const row of rows) {
    const x = Date.parse(row.ts);
    if (Number.isNaN(x)) continue;
    for (const k of CHART_VITALS) {
      const v = row.values[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const s = out[k];
      const last = s.points[s.points.length - 1];
      // Two readings in the same millisecond (two devices): keep the first, like the store does.
      if (last && last.x >= x) continue;
      s.points.push(row.source === 'manual' ? { x, y: v, m: true } : { x, y: v });
      s.lastTs = x;
    }
  }
  return out;
}

/**
 * Aggregates → one series per vital. The last bucket is still filling, and rows may reach the
 * database a moment after they are streamed: live readings after `fetchedUntil` are folded in.
 */
export function seriesFromBuckets(rows: readonly BucketRow[], fetchedUntil: number): Record<ChartVital, Series> {
  const out = emptyAll();
  for (const row of rows) {
    const x = Date.parse(row.ts);
    if (Number.isNaN(x)) continue;
    for (const k of CHART_VITALS) {
      const v = row.values[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      out[k].points.push({ x, y: v, n: Math.max(1, row.count) });
    }
  }
  for (const k of CHART_VITALS) out[k].lastTs = fetchedUntil;
  return out;
}

export function seriesFromScores(rows: readonly ScoreRow[]): Series {
  const s = emptySeries();
  for (const r of rows) appendLive(s, r.ts, r.news2.total, null);
  return s;
}

/**
 * Add one live reading if it is newer than what the series holds. Raw series get a point; an
 * aggregate series folds it into its newest bucket (running mean) or opens the next bucket.
 * Returns whether the series changed.
 */
export function appendLive(s: Series, ts: number, v: number, bucketMs: number | null, manual = false): boolean {
  if (!(ts > s.lastTs) || !Number.isFinite(v)) return false;
  s.lastTs = ts;
  const last = s.points[s.points.length - 1];
  if (bucketMs === null) {
    if (last && last.x >= ts) return false;
    s.points.push(manual ? { x: ts, y: v, m: true } : { x: ts, y: v });
    return true;
  }
  const b = bucketStart(ts, bucketMs);
  if (last && last.x === b) {
    const n = last.n ?? 1;
    last.y = (last.y * n + v) / (n + 1);
    last.n = n + 1;
    return true;
  }
  if (last && last.x > b) return false;
  s.points.push({ x: b, y: v, n: 1 });
  return true;
}

/** Append the live points newer than the series (oldest first). Returns how many changed it. */
export function appendAll(s: Series, points: readonly { ts: number; v: number }[], bucketMs: number | null): number {
  // Walk back to the first new point: usually only the last one or two are.
  let i = points.length;
  while (i > 0 && points[i - 1]!.ts > s.lastTs) i--;
  let n = 0;
  for (; i < points.length; i++) if (appendLive(s, points[i]!.ts, points[i]!.v, bucketMs)) n++;
  return n;
}

/**
 * Drop points older than `cutoff`, keeping the newest of them so the line still enters the chart
 * from its left edge (and a step chart shows the score in force when the window starts).
 * Returns how many were dropped.
 */
export function trimBefore(points: XY[], cutoff: number, keepOne = true): number {
  let i = 0;
  while (i < points.length && points[i]!.x < cutoff) i++;
  const drop = keepOne ? Math.max(0, i - 1) : i;
  if (drop > 0) points.splice(0, drop);
  return drop;
}

/** A point with no neighbour within `gapMs` is drawn as a dot: a line needs two ends. */
export function isIsolated(points: readonly XY[], i: number, gapMs: number): boolean {
  const p = points[i];
  if (!p) return false;
  const prev = points[i - 1];
  const next = points[i + 1];
  return (!prev || p.x - prev.x > gapMs) && (!next || next.x - p.x > gapMs);
}

function emptyAll(): Record<ChartVital, Series> {
  return Object.fromEntries(CHART_VITALS.map((k) => [k, emptySeries()])) as Record<ChartVital, Series>;
}
