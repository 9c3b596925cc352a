// NEWS2 clinical-risk bands and their colours on a dark background (text contrast ≥ 4.5:1).
import type { News2Band } from '../../../server/domain/index.ts';

export const BAND_STYLE: Record<News2Band, { background: string; text: string; label: string }> = {
  low: { background: '#2e7d32', text: '#ffffff', label: 'Low risk' },
  'low-medium': { background: '#f9a825', text: '#111111', label: 'Low–medium risk (a single parameter scores 3)' },
  medium: { background: '#ef6c00', text: '#111111', label: 'Medium risk' },
  high: { background: '#c62828', text: '#ffffff', label: 'High risk' },
};

/** Sub-score colours of the RCP chart: 0 none, 1 yellow, 2 orange, 3 red. */
export function subScoreColour(score: number | null): string {
  if (score === null) return '#455a64';
  return ['#37474f', '#f9a825', '#ef6c00', '#c62828'][Math.min(3, Math.max(0, score))]!;
}

/** WCAG 2.x contrast ratio of two #rrggbb colours. */
export function contrastRatio(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
