// IEC 60601-1-8 auditory alarm signals (web/src/logic/alarm-sound.ts): the burst patterns stay
// inside the standard's ranges, and only an unanswered alarm sounds, the highest priority first.
// The ranges below are written out again from the sources cited in alarm-sound.ts (table 3: the
// burst; table 4: the pulse), so a changed pattern is checked against the standard, not itself.
import { describe, expect, it } from 'vitest';
import {
  HARMONICS,
  LOW_SOUNDS_DEFAULT,
  PATTERNS,
  burstLengthMs,
  burstPeriodMs,
  burstPulses,
  pausedAlarm,
  soundingAlarm,
  type BurstPattern,
} from '../../web/src/logic/alarm-sound.ts';
import type { AlertEvent } from '../../server/domain/events.ts';

type Alarm = Pick<AlertEvent, 'id' | 'priority' | 'state' | 'ts' | 'silencedUntil'>;
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function alarm(id: string, priority: AlertEvent['priority'], state: AlertEvent['state'] = 'active', ts = NOW - 1000, silencedUntil: number | null = null): Alarm {
  return { id, priority, state, ts, silencedUntil };
}

/** Silence between the end of each pulse and the start of the next, ms. */
function silences(p: BurstPattern): number[] {
  return p.onsetsMs.slice(1).map((t, i) => t - (p.onsetsMs[i]! + p.pulseMs));
}

const within = (v: number, lo: number, hi: number) => v >= lo && v <= hi;

describe('pulse (IEC 60601-1-8 table 4)', () => {
  it.each(['high', 'medium', 'low'] as const)('%s: f0 150–1000 Hz, four or more harmonics in 300–4000 Hz within ±15 dB, rise 10–20 % of t_d', (priority) => {
    const p = PATTERNS[priority];
    expect(within(p.frequencyHz, 150, 1000)).toBe(true);
    const components = p.harmonics.map((a, i) => ({ hz: p.frequencyHz * (i + 1), db: 20 * Math.log10(a / p.harmonics[0]!) }));
    const counted = components.filter((c) => within(c.hz, 300, 4000) && Math.abs(c.db) <= 15);
    expect(counted.length).toBeGreaterThanOrEqual(4);
    expect(within(p.riseMs / p.pulseMs, 0.1, 0.2)).toBe(true);
    expect(p.fallMs).toBeLessThanOrEqual(p.pulseMs / 2);
    expect(p.riseMs + p.fallMs).toBeLessThan(p.pulseMs);
  });

  it('harmonics at 0, −3, −6, −9 and −12 dB', () => {
    expect(HARMONICS.map((a) => Math.round(20 * Math.log10(a)))).toEqual([0, -3, -6, -9, -12]);
  });

  it('t_d: high 75–200 ms; medium and low 125–250 ms', () => {
    expect(within(PATTERNS.high.pulseMs, 75, 200)).toBe(true);
    expect(within(PATTERNS.medium.pulseMs, 125, 250)).toBe(true);
    expect(within(PATTERNS.low.pulseMs, 125, 250)).toBe(true);
    // Also when t_d is read between the 90 % points of the rise and the fall.
    for (const p of Object.values(PATTERNS)) {
      const effective = p.pulseMs - 0.9 * p.riseMs - 0.9 * p.fallMs;
      expect(within(effective, p.priority === 'high' ? 75 : 125, p.priority === 'high' ? 200 : 250), p.priority).toBe(true);
    }
  });
});

describe('burst (IEC 60601-1-8 table 3)', () => {
  it('high: ten pulses, x-x-x---x-x, a pause, x-x-x---x-x', () => {
    const p = PATTERNS.high;
    expect(p.onsetsMs).toHaveLength(10);
    const s = silences(p);
    const x = s[0]!;
    expect(within(x, 50, 125)).toBe(true);
    // between 3 and 4 (and 8 and 9): 2x + t_d — one missing beat
    expect(s).toEqual([x, x, 2 * x + p.pulseMs, x, s[4], x, x, 2 * x + p.pulseMs, x]);
    expect(within(s[4]!, 350, 1300)).toBe(true);
    // the chosen numbers: t_d 150, x 100, 600 ms between the halves
    expect(p.onsetsMs).toEqual([0, 250, 500, 1000, 1250, 2000, 2250, 2500, 3000, 3250]);
    expect(burstLengthMs(p)).toBe(3400);
  });

  it('high repeats after 2.5–15 s: 5 s after each 3.4 s burst, every 8.4 s', () => {
    expect(within(PATTERNS.high.burstIntervalMs, 2500, 15_000)).toBe(true);
    expect(burstPeriodMs(PATTERNS.high)).toBe(8400);
  });

  it('medium: three pulses y = 125–250 ms apart, repeated after 2.5–30 s', () => {
    const p = PATTERNS.medium;
    expect(p.onsetsMs).toHaveLength(3);
    const s = silences(p);
    expect(s[0]).toBe(s[1]);
    expect(within(s[0]!, 125, 250)).toBe(true);
    expect(within(p.burstIntervalMs, 2500, 30_000)).toBe(true);
    expect(p.onsetsMs).toEqual([0, 400, 800]);
    expect(burstPeriodMs(p)).toBe(9000);
  });

  it('low: one or two pulses, more than 15 s apart', () => {
    const p = PATTERNS.low;
    expect(within(p.onsetsMs.length, 1, 2)).toBe(true);
    expect(p.burstIntervalMs).toBeGreaterThan(15_000);
  });

  it('every pulse at the same level (at most 10 dB between any two)', () => {
    const levels = new Set(Object.values(PATTERNS).map((p) => p.harmonics.join(',')));
    expect(levels.size).toBe(1);
  });

  it('places one burst on an audio clock in seconds', () => {
    const pulses = burstPulses(PATTERNS.medium, 10);
    expect(pulses.map((q) => [q.start, q.end])).toEqual([
      [10, 10.2],
      [10.4, 10.6],
      [10.8, 11],
    ]);
  });
});

describe('which alarm sounds', () => {
  it('nothing when there are no alarms', () => {
    expect(soundingAlarm([])).toBeNull();
  });

  it('the highest priority among the active ones', () => {
    const list = [alarm('m', 'medium'), alarm('h', 'high', 'active', NOW - 60_000), alarm('l', 'low')];
    expect(soundingAlarm(list)?.id).toBe('h');
  });

  it('the newest within a priority', () => {
    const list = [alarm('old', 'high', 'active', NOW - 60_000), alarm('new', 'high', 'active', NOW - 1000), alarm('mid', 'high', 'active', NOW - 30_000)];
    expect(soundingAlarm(list)?.id).toBe('new');
  });

  it.each(['acknowledged', 'silenced', 'resolved'] as const)('never an alarm %s', (state) => {
    expect(soundingAlarm([alarm('h', 'high', state, NOW, state === 'silenced' ? NOW + 60_000 : null)])).toBeNull();
  });

  it('a silenced high alarm lets an active medium one sound', () => {
    const list = [alarm('h', 'high', 'silenced', NOW, NOW + 120_000), alarm('m', 'medium')];
    expect(soundingAlarm(list)?.id).toBe('m');
  });

  it('a silence that has run out on the local clock still does not sound: the server says when (it pushes the alarm active again)', () => {
    expect(soundingAlarm([alarm('h', 'high', 'silenced', NOW - 300_000, NOW - 60_000)])).toBeNull();
    expect(soundingAlarm([alarm('h', 'high', 'active', NOW - 300_000, null)])?.id).toBe('h');
  });

  it('low only when low sounds are enabled (off by default)', () => {
    expect(LOW_SOUNDS_DEFAULT).toBe(false);
    expect(soundingAlarm([alarm('l', 'low')])).toBeNull();
    expect(soundingAlarm([alarm('l', 'low')], { low: true })?.id).toBe('l');
    expect(soundingAlarm([alarm('l', 'low'), alarm('m', 'medium', 'acknowledged')], { low: true })?.id).toBe('l');
  });
});

describe('the silence to count down', () => {
  it('the silenced alarm that would otherwise sound, with the time left', () => {
    const p = pausedAlarm([alarm('h', 'high', 'silenced', NOW - 10_000, NOW + 102_000)], NOW);
    expect(p?.alarm.id).toBe('h');
    expect(p?.remainingMs).toBe(102_000);
  });

  it('none when something of the same or a higher priority is sounding anyway', () => {
    expect(pausedAlarm([alarm('h', 'high', 'silenced', NOW, NOW + 60_000), alarm('h2', 'high')], NOW)).toBeNull();
    expect(pausedAlarm([alarm('m', 'medium', 'silenced', NOW, NOW + 60_000), alarm('h', 'high')], NOW)).toBeNull();
  });

  it('a silenced high alarm is shown over a sounding medium one', () => {
    expect(pausedAlarm([alarm('h', 'high', 'silenced', NOW, NOW + 60_000), alarm('m', 'medium')], NOW)?.alarm.id).toBe('h');
  });

  it('within a priority, the silence that ends first; never below 0; low ones only when they would sound', () => {
    const list = [alarm('late', 'medium', 'silenced', NOW, NOW + 90_000), alarm('soon', 'medium', 'silenced', NOW, NOW + 30_000)];
    expect(pausedAlarm(list, NOW)?.alarm.id).toBe('soon');
    expect(pausedAlarm([alarm('m', 'medium', 'silenced', NOW - 200_000, NOW - 5000)], NOW)?.remainingMs).toBe(0);
    expect(pausedAlarm([alarm('l', 'low', 'silenced', NOW, NOW + 60_000)], NOW)).toBeNull();
    expect(pausedAlarm([alarm('l', 'low', 'silenced', NOW, NOW + 60_000)], NOW, { low: true })?.alarm.id).toBe('l');
  });
});
