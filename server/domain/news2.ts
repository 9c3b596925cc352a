// NEWS2 (RCP 2017) vocabulary: parameters, bands, the result of a score and the observations due.
// Data only; the scoring functions are in server/pipeline/score/news2.ts.
import type { Acvpu } from './vitals.ts';

export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';
export type News2Parameter = 'rr' | 'spo2' | 'o2' | 'sbp' | 'hr' | 'acvpu' | 'temp';
/** The seven parameters in RCP chart 1 order. */
export const NEWS2_PARAMETERS: readonly News2Parameter[] = ['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp'];

export interface News2Input {
  rr?: number;
  spo2?: number;
  /** On supplemental oxygen. Absent = not assessed: the parameter is missing. */
  o2?: boolean;
  sbp?: number;
  hr?: number;
  /** Absent = not assessed: the parameter is missing. */
  acvpu?: Acvpu;
  temp?: number;
}

export interface News2Result {
  /** Sum of the sub-scores that are known; a lower bound when `partial`. */
  total: number;
  /** Band of `total` (and of a single parameter scoring 3); a lower bound when `partial`. */
  band: News2Band;
  /** True when any of the seven parameters is missing (no fresh value). */
  partial: boolean;
  /** The parameters without a fresh value, in chart order. Empty for a complete score. */
  missing: News2Parameter[];
  /** Sub-score of each parameter; null when the parameter is missing. */
  parameters: Record<News2Parameter, number | null>;
}

export const BAND_RANK: Readonly<Record<News2Band, number>> = { low: 0, 'low-medium': 1, medium: 2, high: 3 };

/** RCP chart 2 trigger of each alarming band: a single 3, a total of 5, a total of 7 (a NEWS2 alarm's `limit`). */
export const BAND_THRESHOLD: Readonly<Partial<Record<News2Band, number>>> = { 'low-medium': 3, medium: 5, high: 7 };

/** Minimum monitoring frequency (RCP NEWS2 chart 4): ms between manual observation sets, or continuous. */
export type ObservationInterval = number | 'continuous';

export interface ObservationsDue {
  /** Epoch ms the next manual observation set is due; null under continuous monitoring. */
  dueAt: number | null;
  interval: ObservationInterval;
}
