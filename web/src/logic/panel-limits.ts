// The patient's alarm limits drawn on the vital charts: a dashed line at each limit and, beyond
// it, a faint red zone. The dataset objects are plain data in the shape Chart.js reads (two
// points spanning the window, `fill` towards the chart edge), so they are testable without it.
import type { Bound } from '../../../server/domain/index.ts';

export interface LimitSpec {
  bound: Bound | undefined;
  /** e.g. 'HR' — the dataset label reads "HR high limit 120". */
  name: string;
  /** Shade the zone beyond each limit. BP shades only its outer zones (above SBP high, below DBP low). */
  shade?: { low: boolean; high: boolean };
  /** Line colour (default: alarm red). */
  colour?: string;
}

export interface LimitDataset {
  label: string;
  data: { x: number; y: number }[];
  /** Chart.js Filler: 'start' fills down to the bottom of the scale, 'end' up to the top. */
  fill: 'start' | 'end' | false;
  borderColor: string;
  backgroundColor: string;
  borderDash: number[];
  borderWidth: number;
  pointRadius: 0;
  pointHitRadius: 0;
  /** Two points a whole window apart: always joined, whatever gap the vital's line breaks at. */
  spanGaps: true;
  /** Marks the dataset as decoration (no tooltip, not counted). */
  limit: 'low' | 'high';
}

export const LIMIT_LINE = 'rgba(239, 83, 80, 0.85)';
export const LIMIT_ZONE = 'rgba(239, 83, 80, 0.10)';

export function limitDatasets(specs: readonly LimitSpec[], from: number, to: number): LimitDataset[] {
  const out: LimitDataset[] = [];
  for (const { bound, name, shade = { low: true, high: true }, colour = LIMIT_LINE } of specs) {
    if (!bound) continue;
    for (const side of ['low', 'high'] as const) {
      const y = bound[side];
      if (y === undefined || !Number.isFinite(y)) continue;
      const fill = shade[side] ? (side === 'low' ? 'start' : 'end') : false;
      out.push({
        label: `${name} ${side} limit ${y}`,
        data: [
          { x: from, y },
          { x: to, y },
        ],
        fill,
        borderColor: colour,
        backgroundColor: LIMIT_ZONE,
        borderDash: [6, 4],
        borderWidth: 1,
        pointRadius: 0,
        pointHitRadius: 0,
        spanGaps: true,
        limit: side,
      });
    }
  }
  return out;
}

/** Default y extent of each chart, before data or limits widen it. */
export const Y_DEFAULTS: Record<string, { min: number; max: number; floor?: number; ceiling?: number }> = {
  hr: { min: 40, max: 140, floor: 0 },
  spo2: { min: 85, max: 100, floor: 0, ceiling: 100 },
  rr: { min: 5, max: 30, floor: 0 },
  temp: { min: 34, max: 40 },
  bp: { min: 40, max: 200, floor: 0 },
  news2: { min: 0, max: 10, floor: 0, ceiling: 20 },
};

/**
 * Suggested y extent: the default, widened so every limit sits inside with some room to see the
 * zone beyond it. Chart.js widens it further for data outside.
 */
export function suggestedY(kind: string, bounds: readonly (Bound | undefined)[]): { suggestedMin: number; suggestedMax: number } {
  const d = Y_DEFAULTS[kind] ?? { min: 0, max: 1 };
  let lo = d.min;
  let hi = d.max;
  for (const b of bounds) {
    if (!b) continue;
    for (const y of [b.low, b.high]) {
      if (y === undefined || !Number.isFinite(y)) continue;
      const pad = Math.max(1, (d.max - d.min) * 0.08);
      lo = Math.min(lo, y - pad);
      hi = Math.max(hi, y + pad);
    }
  }
  if (d.floor !== undefined) lo = Math.max(d.floor, lo);
  if (d.ceiling !== undefined) hi = Math.min(d.ceiling, hi);
  return { suggestedMin: lo, suggestedMax: hi };
}
