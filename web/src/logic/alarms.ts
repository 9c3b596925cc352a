// Alarm presentation after IEC 60601-1-8: high = red, flashing ~2 Hz; medium = yellow, flashing
// ~0.5 Hz; low = cyan, steady. The highest priority wins; newest first within a priority.
import type { AlertEvent } from '../../../server/realtime/events.ts';

export type Priority = AlertEvent['priority'];
const RANK: Record<Priority, number> = { high: 3, medium: 2, low: 1 };

export function isOpen(a: Pick<AlertEvent, 'state'>): boolean {
  return a.state !== 'resolved';
}

export function highestPriority(alerts: Iterable<Pick<AlertEvent, 'priority' | 'state'>>): Priority | null {
  let best: Priority | null = null;
  for (const a of alerts) {
    if (!isOpen(a)) continue;
    if (best === null || RANK[a.priority] > RANK[best]) best = a.priority;
  }
  return best;
}

/** Highest priority first, newest first within a priority. */
export function sortAlarms<T extends Pick<AlertEvent, 'priority' | 'ts'>>(alerts: T[]): T[] {
  return [...alerts].sort((a, b) => RANK[b.priority] - RANK[a.priority] || b.ts - a.ts);
}

export const PRIORITY_STYLE: Record<Priority, { colour: string; text: string; flashHz: number; label: string }> = {
  high: { colour: '#d32f2f', text: '#ffffff', flashHz: 2, label: 'High priority alarm' },
  medium: { colour: '#fdd835', text: '#111111', flashHz: 0.5, label: 'Medium priority alarm' },
  low: { colour: '#26c6da', text: '#111111', flashHz: 0, label: 'Low priority alarm' },
};
