// Auditory alarm signals after IEC 60601-1-8, as data, and the rule for which alarm sounds. Pure:
// no DOM, no Web Audio (web/src/controllers/alarm-sound-controller.ts plays them).
//
// The standard itself is not public. Its ranges are taken from the public material that quotes it:
//  - MarkusRJK/IEC-60601-1-8 on GitHub (high_prio_sound_gen.py, low_prio_sound_gen.py, wavtools.py,
//    citing "IEC 60601-1-8 page 17", tables 3 and 4): pulse frequency 150–1000 Hz; high priority
//    t_d 75–200 ms, spacing x 50–125 ms, 2x + t_d between pulses 3 and 4 (and 8 and 9),
//    0.35–1.30 s between pulses 5 and 6, 2.5–15 s between bursts; medium and low spacing
//    y 125–250 ms; low priority 1 or 2 pulses, more than 15 s between bursts; rise time 10–20 %
//    of t_d; at most 10 dB between the levels of any two pulses.
//  - a public "IEC-style" alarm-sound profile (TypeScript, found by code search) that quotes the
//    same tables through patent US 9,814,817 B2: the same high-priority numbers; medium
//    y 125–250 ms, 2.5–30 s between bursts.
//  - TI DAC53701 data sheet (SLASEY5, medical alarm section) and PUI Audio's IEC 60601-1-8 page
//    (puiaudio.com/pages/iec-60601-1-8): pulse frequency 150–1000 Hz with at least four harmonic
//    components in 300–4000 Hz, each within ±15 dB of the pulse frequency's level.
//  - Covidien Nellcor N-560 manual, table 6: its IEC 60601-1-8 high-priority mode repeats every
//    6.94 s.
// The values below sit inside those ranges, not on their edges.
import { PRIORITY_RANK as RANK, type AlertEvent } from '../../../server/domain/index.ts';

export type Priority = AlertEvent['priority'];

export interface BurstPattern {
  priority: Priority;
  /** When each pulse starts, ms from the start of the burst. IEC 60601-1-8 table 3. */
  onsetsMs: readonly number[];
  /** t_d: a pulse from the start of its rise to the end of its fall, ms. IEC 60601-1-8 table 4. */
  pulseMs: number;
  /** t_r and t_f, ms (table 4: rise time 10–20 % of t_d; the fall mirrors it). */
  riseMs: number;
  fallMs: number;
  /** f_0, the pulse frequency (table 4: 150–1000 Hz). */
  frequencyHz: number;
  /**
   * Relative amplitudes of f_0, 2 f_0, 3 f_0, … (table 4: at least four harmonic components in
   * 300–4000 Hz, within ±15 dB of f_0). Every pulse of every priority has the same level
   * (table 3: at most 10 dB between any two pulses).
   */
  harmonics: readonly number[];
  /** t_b: from the end of a burst's last pulse to the start of the next burst, ms (table 3). */
  burstIntervalMs: number;
}

/** 0, −3, −6, −9, −12 dB: five components, all within ±15 dB of the fundamental. */
export const HARMONICS: readonly number[] = [0, -3, -6, -9, -12].map((db) => Math.round(10 ** (db / 20) * 1000) / 1000);

/**
 * C5. Every harmonic used (523–2616 Hz) lies in 300–4000 Hz, so even a display's small speakers,
 * which lose everything below a few hundred hertz, still reproduce all five. The same pitch for
 * every priority: IEC 60601-1-8 encodes urgency in the rhythm, not the pitch.
 */
export const PULSE_FREQUENCY_HZ = 523.25;

/** High priority (IEC 60601-1-8 table 3): x = 100 ms (50–125), t_d = 150 ms (75–200). */
const HIGH_PULSE_MS = 150;
const HIGH_SPACING_MS = 100;
/** Between pulses 5 and 6: 600 ms of silence (0.35–1.30 s). */
const HIGH_GROUP_GAP_MS = 600;

/**
 * The ten-pulse rhythm x-x-x---x-x ------ x-x-x---x-x: pulses 1–3 and 4–5 are x apart; between
 * 3 and 4 the silence is 2x + t_d, exactly one missing beat (IEC 60601-1-8 table 3).
 */
function highOnsets(td: number, x: number, groupGap: number): number[] {
  const beat = td + x;
  const group = [0, beat, 2 * beat, 4 * beat, 5 * beat];
  const second = 5 * beat + td + groupGap;
  return [...group, ...group.map((t) => second + t)];
}

/** Medium: t_d = 200 ms (125–250), spacing y = 200 ms (125–250). */
const MEDIUM_PULSE_MS = 200;
const MEDIUM_SPACING_MS = 200;

export const PATTERNS: Readonly<Record<Priority, BurstPattern>> = {
  high: {
    priority: 'high',
    onsetsMs: highOnsets(HIGH_PULSE_MS, HIGH_SPACING_MS, HIGH_GROUP_GAP_MS),
    pulseMs: HIGH_PULSE_MS,
    riseMs: 0.15 * HIGH_PULSE_MS,
    fallMs: 0.15 * HIGH_PULSE_MS,
    frequencyHz: PULSE_FREQUENCY_HZ,
    harmonics: HARMONICS,
    // Table 3 allows 2.5–15 s. 5 s of silence after the 3.4 s burst repeats it every 8.4 s
    // (the N-560 above: 6.94 s): anyone walking into the bay hears a burst within one cycle,
    // yet a display alarming for minutes is not a near-continuous noise drowning speech and
    // the bedside monitors' own alarms, as it would be near the 2.5 s minimum.
    burstIntervalMs: 5000,
  },
  medium: {
    priority: 'medium',
    onsetsMs: [0, MEDIUM_PULSE_MS + MEDIUM_SPACING_MS, 2 * (MEDIUM_PULSE_MS + MEDIUM_SPACING_MS)],
    pulseMs: MEDIUM_PULSE_MS,
    riseMs: 0.15 * MEDIUM_PULSE_MS,
    fallMs: 0.15 * MEDIUM_PULSE_MS,
    frequencyHz: PULSE_FREQUENCY_HZ,
    harmonics: HARMONICS,
    // Table 3 allows 2.5–30 s: 8 s after the 1 s burst (every 9 s), less often than high.
    burstIntervalMs: 8000,
  },
  low: {
    priority: 'low',
    // Table 3: one or two pulses; one here.
    onsetsMs: [0],
    pulseMs: MEDIUM_PULSE_MS,
    riseMs: 0.15 * MEDIUM_PULSE_MS,
    fallMs: 0.15 * MEDIUM_PULSE_MS,
    frequencyHz: PULSE_FREQUENCY_HZ,
    harmonics: HARMONICS,
    // Table 3: more than 15 s between bursts (or none at all).
    burstIntervalMs: 20_000,
  },
};

/**
 * Low priority is silent unless a view asks for it. IEC 60601-1-8 lets a low-priority alarm be
 * visual only, and low here means the likes of a slow trend, a battery below 20 %, a sequence gap
 * or observations due (docs/alarms.md, Priorities): a wall display sounding for every one of those
 * across a ward would be alarm fatigue, and would teach staff to ignore the sound that matters.
 */
export const LOW_SOUNDS_DEFAULT = false;

export interface SoundOptions {
  /** Sound low-priority alarms too (default LOW_SOUNDS_DEFAULT). */
  low?: boolean;
}

/** The burst's length, first onset to the end of the last pulse, ms. */
export function burstLengthMs(p: BurstPattern): number {
  return p.onsetsMs[p.onsetsMs.length - 1]! + p.pulseMs;
}

/** How often the burst starts: its length plus t_b, ms. */
export function burstPeriodMs(p: BurstPattern): number {
  return burstLengthMs(p) + p.burstIntervalMs;
}

/** The pulses of one burst on an audio clock (seconds), starting at `start`. */
export function burstPulses(p: BurstPattern, start: number): { start: number; end: number }[] {
  return p.onsetsMs.map((ms) => ({ start: start + ms / 1000, end: start + (ms + p.pulseMs) / 1000 }));
}

type Soundable = Pick<AlertEvent, 'priority' | 'state' | 'ts'>;

function audible(a: Pick<AlertEvent, 'priority'>, opts: SoundOptions): boolean {
  return a.priority !== 'low' || (opts.low ?? LOW_SOUNDS_DEFAULT);
}

/**
 * The alarm whose signal should sound: the highest priority among those still waiting for a
 * response (`active`), the newest within a priority. Acknowledged and silenced alarms never sound
 * (IEC 60601-1-8: acknowledging stops the auditory signal; a silence pauses it), nor resolved
 * ones, nor low ones unless asked for. No clock: when a silence runs out the server sets the alarm
 * `active` again and pushes it, and the sound resumes with that push — the dashboard never ends a
 * silence early on its own clock (a wall display's clock may be off).
 */
export function soundingAlarm<T extends Soundable>(alerts: Iterable<T>, opts: SoundOptions = {}): T | null {
  let best: T | null = null;
  for (const a of alerts) {
    if (a.state !== 'active' || !audible(a, opts)) continue;
    if (best === null || RANK[a.priority] > RANK[best.priority] || (a.priority === best.priority && a.ts > best.ts)) best = a;
  }
  return best;
}

/**
 * The silence to count down next to the sound control: the silenced alarm that would otherwise be
 * the one sounding — of a higher priority than anything sounding now — and the time left (ms).
 * Within a priority, the one whose silence ends first. Null when no such alarm exists.
 */
export function pausedAlarm<T extends Soundable & Pick<AlertEvent, 'silencedUntil'>>(
  alerts: Iterable<T>,
  now: number,
  opts: SoundOptions = {},
): { alarm: T; remainingMs: number } | null {
  const list = [...alerts];
  const sounding = soundingAlarm(list, opts);
  let best: T | null = null;
  for (const a of list) {
    if (a.state !== 'silenced' || !audible(a, opts)) continue;
    if (sounding && RANK[a.priority] <= RANK[sounding.priority]) continue;
    const until = a.silencedUntil ?? Number.POSITIVE_INFINITY;
    const bestUntil = best?.silencedUntil ?? Number.POSITIVE_INFINITY;
    if (best === null || RANK[a.priority] > RANK[best.priority] || (a.priority === best.priority && until < bestUntil)) best = a;
  }
  if (!best) return null;
  return { alarm: best, remainingMs: best.silencedUntil === null ? 0 : Math.max(0, best.silencedUntil - now) };
}
