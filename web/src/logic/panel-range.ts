// The patient panel's time ranges and the history queries behind them. Pure: the caller passes
// `now`. Short ranges chart raw readings; long ones chart server-side aggregates, because a
// week of 1 Hz readings (600 000 rows) is neither worth sending nor drawable.

export type RangeKey = '5m' | '1h' | '24h' | '7d';

export interface RangeSpec {
  key: RangeKey;
  label: string;
  ms: number;
  /** Aggregate bucket for `/vitals?bucket=` (null: raw readings). */
  bucket: string | null;
  bucketMs: number | null;
  /** Raw-row limit asked for (the server caps a raw request at 100 000 and defaults to 10 000). */
  limit: number | null;
  /** Downsample with LTTB when drawing. */
  decimate: boolean;
  /** Points further apart than this are not joined: a gap in monitoring shows as a gap. */
  gapMs: number;
  /** Time-axis tick spacing, on round local times (every minute, every 10 min …). */
  tickMs: number;
  tickUnit: 'minute' | 'hour' | 'day';
}

export const RANGES: Record<RangeKey, RangeSpec> = {
  '5m': { key: '5m', label: '5 min', ms: 5 * 60_000, bucket: null, bucketMs: null, limit: 10_000, decimate: false, gapMs: 30_000, tickMs: 60_000, tickUnit: 'minute' },
  '1h': { key: '1h', label: '1 h', ms: 3600_000, bucket: null, bucketMs: null, limit: 50_000, decimate: true, gapMs: 60_000, tickMs: 10 * 60_000, tickUnit: 'minute' },
  '24h': { key: '24h', label: '24 h', ms: 24 * 3600_000, bucket: '1m', bucketMs: 60_000, limit: null, decimate: true, gapMs: 5 * 60_000, tickMs: 3 * 3600_000, tickUnit: 'hour' },
  '7d': { key: '7d', label: '7 d', ms: 7 * 24 * 3600_000, bucket: '15m', bucketMs: 15 * 60_000, limit: null, decimate: true, gapMs: 60 * 60_000, tickMs: 86_400_000, tickUnit: 'day' },
};

export const RANGE_KEYS: readonly RangeKey[] = ['5m', '1h', '24h', '7d'];

export interface RangeWindow {
  from: number;
  to: number;
}

/** The window a range shows at `now`: [now - range, now]. */
export function rangeWindow(range: RangeKey, now: number): RangeWindow {
  return { from: now - RANGES[range].ms, to: now };
}

/** Query string (without '?') for the vitals history of a range. */
export function vitalsParams(range: RangeKey, now: number): URLSearchParams {
  const spec = RANGES[range];
  const { from, to } = rangeWindow(range, now);
  const q = new URLSearchParams({ from: String(Math.floor(from)), to: String(Math.ceil(to)) });
  if (spec.bucket) q.set('bucket', spec.bucket);
  else if (spec.limit) q.set('limit', String(spec.limit));
  return q;
}

export function vitalsPath(patientId: string, range: RangeKey, now: number): string {
  return `/api/patients/${encodeURIComponent(patientId)}/vitals?${vitalsParams(range, now)}`;
}

export function scoresPath(patientId: string, range: RangeKey, now: number): string {
  const { from, to } = rangeWindow(range, now);
  return `/api/patients/${encodeURIComponent(patientId)}/scores?from=${Math.floor(from)}&to=${Math.ceil(to)}`;
}

export function alertsPath(patientId: string, limit = 20): string {
  return `/api/alerts?patientId=${encodeURIComponent(patientId)}&order=recent&limit=${limit}`;
}

/** Start of the aggregate bucket holding `ts`: the server bins from 2000-01-03T00:00Z, a whole number of 15 min after the epoch. */
export function bucketStart(ts: number, bucketMs: number): number {
  return Math.floor(ts / bucketMs) * bucketMs;
}

/**
 * Time-axis ticks every `stepMs` on round local times in [from, to] (Chart.js would start them at
 * the window's first second: 09:23:01, 09:23:31 …). `tzOffsetMin(t)` is Date#getTimezoneOffset.
 */
export function alignedTicks(from: number, to: number, stepMs: number, tzOffsetMin: (t: number) => number = (t) => new Date(t).getTimezoneOffset()): number[] {
  if (!(stepMs > 0) || !(to >= from)) return [];
  const out: number[] = [];
  const off = -tzOffsetMin(from) * 60_000;
  let t = Math.ceil((from + off) / stepMs) * stepMs - off;
  for (let i = 0; t <= to && i < 1000; i++, t += stepMs) {
    // A day step across a daylight-saving change: re-align to local midnight.
    const o = -tzOffsetMin(t) * 60_000;
    out.push(o === off ? t : t - (o - off));
  }
  return out;
}
