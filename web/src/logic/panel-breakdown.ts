// The NEWS2 breakdown table: one row per parameter of the RCP chart, with the value that was
// scored, its sub-score and the chart colour. A parameter with no fresh value is "missing" (—),
// which is what makes a score partial.
import type { News2Parameter } from '../../../server/domain/index.ts';
import { contrastRatio, subScoreColour } from './bands.ts';

export const BREAKDOWN_ORDER: readonly News2Parameter[] = ['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp'];

const LABELS: Record<News2Parameter, string> = {
  rr: 'Respiration rate',
  spo2: 'SpO₂',
  o2: 'Air or oxygen?',
  sbp: 'Systolic BP',
  hr: 'Pulse',
  acvpu: 'Consciousness',
  temp: 'Temperature',
};

export interface BreakdownRow {
  parameter: News2Parameter;
  label: string;
  /** The current value as text, '—' when there is none. */
  value: string;
  /** Sub-score as text, '—' when missing. */
  score: string;
  missing: boolean;
  background: string;
  text: string;
}

/** The candidate text colour with the most contrast on `background` (the first on a tie). */
export function textOn(background: string, candidates: readonly string[] = ['#ffffff', '#111111']): string {
  let best = candidates[0] ?? '#ffffff';
  for (const c of candidates) if (contrastRatio(c, background) > contrastRatio(best, background)) best = c;
  return best;
}

function formatValue(p: News2Parameter, v: unknown): string {
  if (v === undefined || v === null || v === '') return '—';
  if (p === 'o2') return v === true ? 'Oxygen' : 'Air';
  if (p === 'temp' && typeof v === 'number') return `${v.toFixed(1)} °C`;
  if (p === 'spo2' && typeof v === 'number') return `${Math.round(v)} %`;
  if ((p === 'rr' || p === 'hr') && typeof v === 'number') return `${Math.round(v)} /min`;
  if (p === 'sbp' && typeof v === 'number') return `${Math.round(v)} mmHg`;
  return String(v);
}

/** `preferred` when it reaches WCAG AA (4.5:1) on `background`, else white or black, whichever contrasts more. */
export function readableText(background: string, preferred: string): string {
  return contrastRatio(preferred, background) >= 4.5 ? preferred : textOn(background, ['#ffffff', '#000000']);
}

export function breakdownRows(
  parameters: Partial<Record<News2Parameter, number | null>> | null | undefined,
  values: Partial<Record<string, unknown>> = {},
): BreakdownRow[] {
  return BREAKDOWN_ORDER.map((parameter) => {
    const s = parameters?.[parameter];
    const score = typeof s === 'number' ? s : null;
    const background = subScoreColour(score);
    return {
      parameter,
      label: LABELS[parameter],
      value: formatValue(parameter, values[parameter]),
      score: score === null ? '—' : String(score),
      missing: score === null,
      background,
      text: textOn(background),
    };
  });
}
