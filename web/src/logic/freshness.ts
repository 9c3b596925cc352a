// When is a shown value no longer live? Pure: the caller passes `now`.
// A streamed value older than its window is greyed and shows its age; a manual observation is
// charted for much longer (nurses observe every few hours).

export interface DisplayFreshness {
  deviceMs: number;
  manualMs: number;
}

/** Wall-display defaults: a monitor sends every second or so, so 30 s without news is stale. */
export const DISPLAY_FRESHNESS: DisplayFreshness = { deviceMs: 30_000, manualMs: 12 * 3600_000 };

export function isStale(ts: number, source: string, now: number, f: DisplayFreshness = DISPLAY_FRESHNESS): boolean {
  return now - ts > (source === 'manual' ? f.manualMs : f.deviceMs);
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
