// Marble tests of the pipeline operators under virtual time (RxJS TestScheduler): coalescing per
// tick, per-patient scoring and alarms, freshness by the scheduler's clock, isolation of errors.
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import type { Observable } from 'rxjs';
import { coalesceVitals, monitorPatients, type MonitorInput, type PatientContext } from '../../server/pipeline/operators.ts';
import { AlarmEngine } from '../../server/pipeline/alarms/engine.ts';
import type { Alarm } from '../../server/domain/alarms.ts';
import type { Reading, VitalValues } from '../../server/domain/vitals.ts';

/** The helpers TestScheduler.run hands its callback (public API, not rxjs/internal). */
type RunHelpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const reading = (patientId: string | null, ts: number, values: VitalValues, deviceId: string | null = 'd1'): Reading => ({
  ts,
  values,
  deviceId,
  patientId,
  source: 'device',
  receivedAt: ts,
});

// A full set of normal adult values: NEWS2 0, no limit crossed.
const NORMAL: VitalValues = { hr: 70, spo2: 97, rr: 14, temp: 36.8, sbp: 120, dbp: 80 };

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
          { patientId: 'p1', deviceId: 'd1', ts: 2, at: 2, source: 'device', values: { hr: 70, spo2: 96 } },
          { patientId: 'p2', deviceId: 'd1', ts: 4, at: 4, source: 'device', values: { hr: 90 } },
        ],
        y: [{ patientId: 'p1', deviceId: 'd1', ts: 11, at: 11, source: 'device', values: { hr: 72 } }],
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
        x: [{ patientId: 'p1', deviceId: 'd1', ts: 5, at: 5, source: 'device', values: { hr: 80, spo2: 95 } }],
      });
    });
  });
});

// ---------------------------------------------------------------- monitorPatients (virtual time)

type Event = [at: number, what: string];

/** Run the monitor under the TestScheduler; record what happened at which virtual ms. */
function runMonitor(
  build: (h: RunHelpers, engine: AlarmEngine) => Observable<MonitorInput>,
  opts: {
    context?: (id: string) => PatientContext | undefined;
    onError?: (err: unknown, id: string) => void;
    during?: (engine: AlarmEngine, at: (ms: number, fn: () => void) => void) => void;
    restored?: Alarm[];
  } = {},
): { events: Event[]; engine: AlarmEngine } {
  const scheduler = newScheduler();
  const events: Event[] = [];
  const keys = new Map<string, string>();
  let n = 0;
  const engine = new AlarmEngine({ context: opts.context ?? (() => ({ spo2Scale: 1, limits: null })), newId: () => `a${++n}`, onError: opts.onError }, undefined, opts.restored);
  for (const a of opts.restored ?? []) keys.set(a.id, a.key);
  scheduler.run((h) => {
    opts.during?.(engine, (ms, fn) => scheduler.schedule(fn, ms));
    build(h, engine)
      .pipe(monitorPatients(engine, 1000, scheduler))
      .subscribe((o) => {
        const now = scheduler.now();
        for (const s of o.scores) events.push([now, `score ${s.patientId} ${s.news2.total} ${s.news2.band}${s.news2.partial ? ' partial' : ''}`]);
        for (const a of o.alarms) keys.set(a.id, a.key);
        for (const t of o.transitions) events.push([now, `${keys.get(t.alarmId) ?? t.alarmId} ${t.from ?? '∅'}→${t.to}`]);
        for (const e of o.escalations) events.push([now, `escalate ${e.alarm.key} level ${e.level} → ${e.role}`]);
      });
  });
  return { events, engine };
}

/** One reading per second from `from` to `to` (inclusive), values from `values(t)`. */
function everySecond(h: RunHelpers, from: number, to: number, values: (t: number) => VitalValues, patientId = 'p1', deviceId: string | null = 'd1'): Observable<MonitorInput> {
  // Marble: each event symbol takes one frame, so "X 999ms Y" puts Y 1000 ms after X.
  const symbols: string[] = [];
  const events: Record<string, MonitorInput> = {};
  for (let t = from, i = 0; t <= to; t += 1000, i++) {
    const sym = String.fromCharCode(0x4e00 + i);
    events[sym] = { type: 'reading', reading: reading(patientId, t, values(t), deviceId) };
    symbols.push(i === 0 ? (from > 0 ? `${from}ms ${sym}` : sym) : `999ms ${sym}`);
  }
  return h.cold(`${symbols.join(' ')} |`, events);
}

describe('monitorPatients', () => {
  it('scores each patient and emits only changes', () => {
    const { events } = runMonitor((h) =>
      h.cold('a b c |', {
        a: { type: 'reading', reading: reading('p1', 0, NORMAL) },
        b: { type: 'reading', reading: reading('p2', 1, { ...NORMAL, hr: 95 }, 'd2') },
        c: { type: 'reading', reading: reading('p1', 2, NORMAL) },
      }),
    );
    // Device data alone: consciousness and oxygen are not assessed, so the scores are partial.
    expect(events).toEqual([
      [0, 'score p1 0 low partial'],
      [1, 'score p2 1 low partial'],
    ]);
  });

  it('fires a heart-rate limit alarm only after the violation held for 10 s, and clears it with hysteresis', () => {
    const { events } = runMonitor((h) =>
      everySecond(h, 0, 20_000, (t) => ({ ...NORMAL, hr: t < 15_000 ? 125 : t < 18_000 ? 118 : 110 })),
    );
    const alarms = events.filter(([, w]) => w.startsWith('limit:'));
    // 125 > 120 from t=0: fires at 10 s. 118 is inside the limit but within the 5 /min margin:
    // still alarming. 110 clears it.
    expect(alarms).toEqual([
      [10_000, 'limit:hr ∅→active'],
      [18_000, 'limit:hr active→resolved'],
    ]);
  });

  it('never fires for a violation shorter than the delay', () => {
    const { events } = runMonitor((h) => everySecond(h, 0, 20_000, (t) => ({ ...NORMAL, hr: t >= 5000 && t < 12_000 ? 130 : 70 })));
    expect(events.filter(([, w]) => w.includes('limit:'))).toEqual([]);
  });

  it('raises a high NEWS2 alarm at once, latches it, and escalates it while nobody acknowledges', () => {
    // RR 26 (3) + SpO2 91 (3) + HR 95 (1) = 7: high
    const { events } = runMonitor((h) => everySecond(h, 0, 125_000, (t) => (t < 3000 ? { ...NORMAL, rr: 26, spo2: 91, hr: 95 } : NORMAL)));
    const news2 = events.filter(([, w]) => w.includes('news2') || w.startsWith('escalate'));
    expect(news2).toEqual([
      [0, 'news2:total ∅→active'],
      [60_000, 'escalate news2:total level 1 → doctor'],
      [120_000, 'escalate news2:total level 2 → doctor'],
    ]);
  });

  it('silences for 2 minutes, then the alarm comes back while its condition holds', () => {
    let id = '';
    const { events, engine } = runMonitor((h) => everySecond(h, 0, 130_000, () => ({ ...NORMAL, rr: 26, spo2: 91, hr: 95 })), {
      during: (engine, at) =>
        at(5_000, () => {
          id = engine.openAlarms('p1').find((a) => a.key === 'news2:total')!.id;
          const r = engine.act(id, 'silence', { id: 'nurse-1', role: 'nurse' }, 5_000, 'at the bedside');
          expect(r.ok).toBe(true);
        }),
    });
    expect(events.filter(([, w]) => w.includes('news2') || w.startsWith('escalate'))).toEqual([
      [0, 'news2:total ∅→active'],
      [125_000, 'news2:total silenced→active'],
    ]);
    expect(engine.findOpen(id)?.state).toBe('active');
  });

  it('raises a technical alarm when a device goes quiet, by the clock alone', () => {
    const { events } = runMonitor((h) => h.cold('a 40s |', { a: { type: 'reading', reading: { ...reading('p1', 0, NORMAL), seq: 1 } } }));
    expect(events.filter(([, w]) => w.startsWith('device-offline'))).toEqual([[31_000, 'device-offline:d1 ∅→active']]);
  });

  it('holds alarms restored after a restart until data says otherwise (absent data is not recovery)', () => {
    const restoredAlarm = (key: string, kind: Alarm['kind'], extra: Partial<Alarm>): Alarm => ({
      id: `old-${key}`, patientId: 'p1', key, kind, category: 'physiological', priority: 'medium', parameter: null, value: null, limit: null,
      rule: 'r', message: 'm', state: 'active', ts: -60_000, endedAt: null, updatedAt: -60_000, conditionActive: true, latching: false,
      silencedUntil: null, acknowledgedBy: null, acknowledgedAt: null, acknowledgedValue: null, escalationLevel: 0, nextEscalationAt: null, deviceId: null, ...extra,
    });
    const { events } = runMonitor(
      (h) =>
        h.cold('a 4999ms b 4999ms c |', {
          // first reading carries no heart rate: the restored HR alarm and the device alarm stay
          a: { type: 'reading', reading: reading('p1', 0, { spo2: 97, rr: 14 }, 'd7') },
          b: { type: 'reading', reading: reading('p1', 5000, { spo2: 97, rr: 14 }, 'd7') },
          // a normal heart rate clears the HR alarm
          c: { type: 'reading', reading: reading('p1', 10_000, { hr: 72, spo2: 97, rr: 14 }, 'd7') },
        }),
      {
        restored: [
          restoredAlarm('limit:hr', 'limit', { parameter: 'hr', value: 140, limit: 120 }),
          restoredAlarm('device-offline:d9', 'device-offline', { category: 'technical', deviceId: 'd9' }),
        ],
      },
    );
    expect(events.filter(([, w]) => w.includes('→'))).toEqual([[10_000, 'limit:hr active→resolved']]);
  });

  it('keeps monitoring the others when one patient’s evaluation throws', () => {
    const errors: string[] = [];
    const { events } = runMonitor(
      (h) =>
        h.cold('a b |', {
          a: { type: 'reading', reading: reading('boom', 0, NORMAL, 'd9') },
          b: { type: 'reading', reading: reading('p1', 1, NORMAL) },
        }),
      {
        context: (id) => {
          if (id === 'boom') throw new Error('corrupt context');
          return { spo2Scale: 1, limits: null };
        },
        onError: (err, id) => errors.push(`${id}: ${(err as Error).message}`),
      },
    );
    expect(events).toEqual([[1, 'score p1 0 low partial']]);
    expect(errors).toEqual(['boom: corrupt context']);
  });
});
