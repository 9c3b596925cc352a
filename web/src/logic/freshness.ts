// When is a shown value no longer live? Pure: the caller passes `now`.
// The display uses the server's own freshness windows (sent with every subscription), so a value
// greys out exactly when the server stops scoring it: the tile and the score agree. Ages count
// from a value's `at` = min(measurement time, receipt time), so a device whose clock runs fast
// cannot keep a number looking live.
import { CONTINUOUS_VITALS, DEFAULT_FRESHNESS, type Freshness, type VitalKey } from '../../../server/domain/index.ts';

/**
 * The windows a display applies: the server's (sent with every subscription; until then its
 * defaults, DEFAULT_FRESHNESS). Manual values: at most `manualMs`, the patient's score narrows it.
 */
export type DisplayFreshness = Pick<Freshness, 'deviceMs' | 'intermittentMs' | 'manualMs'>;

const CONTINUOUS: ReadonlySet<string> = new Set(CONTINUOUS_VITALS);

/** The window of one parameter from one source; `manualWindowMs` is the patient's (from its score). */
export function windowFor(key: VitalKey | string, source: string, f: DisplayFreshness = DEFAULT_FRESHNESS, manualWindowMs?: number): number {
  if (source === 'manual') return manualWindowMs === undefined ? f.manualMs : Math.min(manualWindowMs, f.manualMs);
  return CONTINUOUS.has(key) ? f.deviceMs : f.intermittentMs;
}

export interface StampLike {
  ts: number;
  /** min(ts, receipt); absent on old data: `ts` is used. */
  at?: number;
  source: string;
}

/** The time a value's age counts from. */
export function ageFrom(s: StampLike): number {
  return Math.min(s.ts, s.at ?? s.ts);
}

export function isStale(s: StampLike, key: VitalKey | string, now: number, f: DisplayFreshness = DEFAULT_FRESHNESS, manualWindowMs?: number): boolean {
  return now - ageFrom(s) > windowFor(key, s.source, f, manualWindowMs);
}

/** The window of a patient's manual value of `key`, from its latest score (per parameter, else the interval now). */
export function manualWindowOf(score: { manualWindows?: Partial<Record<string, number>>; manualWindowMs?: number } | null | undefined, key: string): number | undefined {
  return score?.manualWindows?.[key] ?? score?.manualWindowMs;
}

/** "12s", "4m", "3h", "2d" — short enough for a tile corner. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export type SignalState = 'live' | 'no-signal' | 'no-device';

/** "No signal" when the patient has devices and none of them is online. */
export function signalState(devices: { status: string }[]): SignalState {
  if (devices.length === 0) return 'no-device';
  return devices.some((d) => d.status === 'online') ? 'live' : 'no-signal';
}
