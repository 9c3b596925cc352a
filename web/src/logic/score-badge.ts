// What the NEWS2 badge of a bed tile says, and whether it may wear a band colour. Pure.
// An incomplete score never looks safe: a partial score is a lower bound ("NEWS2 ≥ 2 · 5/7") with
// no band colour; a score whose every input has gone stale is greyed with its age; only a complete,
// current score is coloured by its RCP clinical-risk band.
import type { ScoreEvent } from '../../../server/domain/index.ts';
import type { News2Band } from '../../../server/domain/index.ts';
import { formatAge } from './freshness.ts';

const PARAMETER_NAME: Record<string, string> = {
  rr: 'respiration rate',
  spo2: 'SpO₂',
  o2: 'air or oxygen',
  sbp: 'systolic BP',
  hr: 'pulse',
  acvpu: 'consciousness (ACVPU)',
  temp: 'temperature',
};

export type BadgeState = 'none' | 'complete' | 'partial' | 'stale';

export interface ScoreBadge {
  state: BadgeState;
  /** Shown on the tile. */
  text: string;
  /** The band colour applies only to a complete, current score. */
  band: News2Band | null;
  /** For the tooltip and screen readers. */
  description: string;
}

/** "NEWS2 5", "NEWS2 ≥ 2 · 5/7", "NEWS2 4 · 12m ago", "NEWS2 –". */
export function scoreBadge(score: ScoreEvent | null | undefined, now: number): ScoreBadge {
  if (!score) return { state: 'none', text: 'NEWS2 –', band: null, description: 'no score yet' };
  const n = score.news2;
  const missing = n.missing ?? [];
  const known = 7 - missing.length;
  if (score.freshUntil !== undefined && now > score.freshUntil) {
    const age = formatAge(now - (score.dataAt ?? score.freshUntil));
    return {
      state: 'stale',
      text: `NEWS2 ${n.partial ? '≥ ' : ''}${n.total} · ${age} ago`,
      band: null,
      description: `NEWS2 ${n.total} is not current: every value it was computed from is stale (newest ${age} old)`,
    };
  }
  if (n.partial) {
    const names = missing.map((p) => PARAMETER_NAME[p] ?? p).join(', ');
    return {
      state: 'partial',
      text: `NEWS2 ≥ ${n.total} · ${known}/7`,
      band: null,
      description: `NEWS2 incomplete: at least ${n.total} from ${known} of 7 parameters; missing ${names}`,
    };
  }
  return { state: 'complete', text: `NEWS2 ${n.total}`, band: n.band, description: `NEWS2 ${n.total}, ${n.band} risk` };
}

/** "Air" / "O₂" and "A"/"C"/… only when assessed; "–" when nobody has (never a default). */
export function assessmentText(o2: unknown, acvpu: unknown): { o2: string; acvpu: string } {
  return {
    o2: o2 === true ? 'O₂' : o2 === false ? 'Air' : '–',
    acvpu: typeof acvpu === 'string' ? acvpu : '–',
  };
}
