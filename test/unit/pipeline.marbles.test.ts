// Marble tests of the pipeline operators under virtual time (RxJS TestScheduler): coalescing per
// tick, per-patient scoring and alarms, freshness by the scheduler's clock, isolation of errors.
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { map } from 'rxjs';
import { coalesceVitals, scorePatients, type PatientUpdate, type ScoringDeps } from '../../server/pipeline/operators.ts';
import type { Reading, VitalValues } from '../../server/pipeline/vitals.ts';

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const reading = (patientId: string | null, ts: number, values: VitalValues, deviceId = 'd1'): Reading => ({
  ts,
  values,
  deviceId,
  patientId,
  source: 'device',
  receivedAt: ts,
});

// A full set of normal adult values: NEWS2 0, no limit crossed.
const NORMAL: VitalValues = { hr: 70, spo2: 97, rr: 14, temp: 36.8, sbp: 120, dbp: 80 };

function deps(scheduler: TestScheduler, extra: Partial<ScoringDeps> = {}): ScoringDeps {
  let n = 0;
  return {
    context: () => ({ spo2Scale: 1, limits: null }),
    freshness: { deviceMs: 5, manualMs: 50 },
    newId: () => `a${++n}`,
    scheduler,
    ...extra,
  };
}

describe('coalesceVitals', () => {
  it('merges each patient’s readings within a tick into one event, one emission per tick', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c 6ms d|', {
        a: reading('p1', 0, { hr: 70 }),
        b: reading('p1', 2, { spo2: 96 }),
        c: reading('p2', 4, { hr: 90 }),
        d: reading('p1', 11, { hr: 72 }),
      });
      expectObservable(src.pipe(coalesceVitals(10, undefined))).toBe('10ms x 1ms (y|)', {
        x: [
          { patientId: 'p1', deviceId: 'd1', ts: 2, values: { hr: 70, spo2: 96 } },
          { patientId: 'p2', deviceId: 'd1', ts: 4, values: { hr: 90 } },
        ],
        y: [{ patientId: 'p1', deviceId: 'd1', ts: 11, values: { hr: 72 } }],
      });
    });
  });

  it('emits nothing for an empty, silent or unassigned stream', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Reading>('|').pipe(coalesceVitals(10))).toBe('|');
      expectObservable(cold<Reading>('-').pipe(coalesceVitals(10)), '^ 50ms !').toBe('');
      expectObservable(cold('a|', { a: reading(null, 0, { hr: 1 }) }).pipe(coalesceVitals(10))).toBe('-|');
    });
  });

  it('keeps the newest value when readings arrive out of order', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const src = cold('ab|', { a: reading('p1', 5, { hr: 80 }), b: reading('p1', 3, { hr: 60, spo2: 95 }) });
      expectObservable(src.pipe(coalesceVitals(10))).toBe('--(x|)', {
        x: [{ patientId: 'p1', deviceId: 'd1', ts: 5, values: { hr: 80, spo2: 95 } }],
      });
    });
  });
});

describe('scorePatients', () => {
  const summary = (u: PatientUpdate) => ({
    p: u.patientId,
    total: u.score.total,
    band: u.score.band,
    partial: u.score.partial,
    changed: u.scoreChanged,
    alerts: u.alerts.map((a) => `${a.kind}:${a.parameter}:${a.priority}:${a.state}`),
  });

  it('scores each patient separately and flags only real changes', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const src = cold('abc|', {
        a: reading('p1', 0, NORMAL),
        b: reading('p2', 1, { ...NORMAL, hr: 135 }),
        c: reading('p1', 2, NORMAL),
      });
      expectObservable(src.pipe(scorePatients(deps(s)), map(summary))).toBe('abc|', {
        a: { p: 'p1', total: 0, band: 'low', partial: false, changed: true, alerts: [] },
        b: { p: 'p2', total: 3, band: 'low-medium', partial: false, changed: true, alerts: ['limit:hr:medium:active'] },
        c: { p: 'p1', total: 0, band: 'low', partial: false, changed: false, alerts: [] },
      });
    });
  });

  it('raises a NEWS2 alarm as the score rises, escalates it, and resolves it on a full low score', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const src = cold('abcd|', {
        a: reading('p1', 0, NORMAL),
        // RR 22 (2) + SpO2 93 (2) + HR 95 (1) = 5: medium
        b: reading('p1', 1, { ...NORMAL, rr: 22, spo2: 93, hr: 95 }),
        // RR 26 (3) + SpO2 91 (3) + HR 95 (1) = 7: high
        c: reading('p1', 2, { ...NORMAL, rr: 26, spo2: 91, hr: 95 }),
        d: reading('p1', 3, NORMAL),
      });
      expectObservable(src.pipe(scorePatients(deps(s)), map(summary))).toBe('abcd|', {
        a: { p: 'p1', total: 0, band: 'low', partial: false, changed: true, alerts: [] },
        b: { p: 'p1', total: 5, band: 'medium', partial: false, changed: true, alerts: ['news2:news2:medium:active'] },
        c: {
          p: 'p1',
          total: 7,
          band: 'high',
          partial: false,
          changed: true,
          // SpO2 91 is above the default low limit of 90: no limit alarm for it
          alerts: ['limit:rr:medium:active', 'news2:news2:high:active'],
        },
        d: {
          p: 'p1',
          total: 0,
          band: 'low',
          partial: false,
          changed: true,
          alerts: ['news2:news2:high:resolved', 'limit:rr:medium:resolved'],
        },
      });
    });
  });

  it('lets values go stale by the scheduler clock: the score becomes partial', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      // device freshness is 5 ms here; the second reading (hr only) comes 10 ms later
      const src = cold('a 9ms b|', { a: reading('p1', 0, NORMAL), b: reading('p1', 10, { hr: 72 }) });
      expectObservable(src.pipe(scorePatients(deps(s)), map(summary))).toBe('a 9ms b|', {
        a: { p: 'p1', total: 0, band: 'low', partial: false, changed: true, alerts: [] },
        b: { p: 'p1', total: 0, band: 'low', partial: true, changed: true, alerts: [] },
      });
    });
  });

  it('ignores unassigned readings and keeps going for others when one patient’s scoring throws', () => {
    const s = newScheduler();
    const errors: string[] = [];
    s.run(({ cold, expectObservable }) => {
      const src = cold('abc|', { a: reading(null, 0, NORMAL), b: reading('boom', 1, NORMAL), c: reading('p1', 2, NORMAL) });
      const d = deps(s, {
        context: (id) => {
          if (id === 'boom') throw new Error('corrupt context');
          return { spo2Scale: 1, limits: null };
        },
        onError: (err, r) => errors.push(`${r.patientId}: ${(err as Error).message}`),
      });
      expectObservable(src.pipe(scorePatients(d), map(summary))).toBe('--c|', {
        c: { p: 'p1', total: 0, band: 'low', partial: false, changed: true, alerts: [] },
      });
    });
    expect(errors).toEqual(['boom: corrupt context']);
  });

  it('propagates a source error and stops on unsubscribe', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const src = cold('a#', { a: reading('p1', 0, NORMAL) });
      expectObservable(src.pipe(scorePatients(deps(s)), map((u) => u.score.total))).toBe('a#', { a: 0 });
      const endless = cold('a 5ms a 5ms a', { a: reading('p1', 0, NORMAL) });
      expectObservable(endless.pipe(scorePatients(deps(s)), map((u) => u.score.total)), '^ 7ms !').toBe('a 5ms a', { a: 0 });
    });
  });

  it('resumes alarms left open before a restart, so they resolve rather than linger', () => {
    const s = newScheduler();
    s.run(({ cold, expectObservable }) => {
      const open = {
        id: 'old-1',
        patientId: 'p1',
        kind: 'limit' as const,
        category: 'physiological' as const,
        parameter: 'hr',
        value: 140,
        limit: 120,
        priority: 'medium' as const,
        state: 'active' as const,
        message: 'Heart rate high 140 /min (limit 120)',
        ts: -100,
        endedAt: null,
        updatedAt: -100,
      };
      const src = cold('a|', { a: reading('p1', 0, NORMAL) });
      const d = deps(s, { initialAlarms: () => ({ open: { 'limit:hr': open } }) });
      expectObservable(src.pipe(scorePatients(d), map((u) => u.alerts.map((a) => `${a.id}:${a.state}`)))).toBe('a|', {
        a: ['old-1:resolved'],
      });
    });
  });
});
