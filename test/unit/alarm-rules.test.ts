// Physiological alarm state machine: open, deduplicate, escalate, resolve.
// NEWS2 trigger thresholds from RCP NEWS2 chart 4 (medium: aggregate 5–6, high: ≥7).
import { beforeEach, describe, expect, it } from 'vitest';
import {
  EMPTY_ALARM_STATE,
  NEWS2_RESPONSE,
  stepAlarms,
  type AlarmInput,
  type AlarmState,
  type Alert,
} from '../../server/pipeline/alarms/rules.ts';
import { scoreNews2, type News2Result } from '../../server/pipeline/score/news2.ts';
import type { VitalValues } from '../../server/pipeline/vitals.ts';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const NORMAL: VitalValues = { hr: 70, spo2: 97, rr: 16, temp: 37.0, sbp: 120, dbp: 80, o2: false, acvpu: 'A' };

let ids: () => string;
beforeEach(() => {
  let n = 0;
  ids = () => `alarm-${++n}`;
});

function input(now: number, values: VitalValues, extra: Partial<AlarmInput> = {}): AlarmInput {
  return { patientId: 'p1', now, values, score: null, limits: null, ...extra };
}

/** A NEWS2 result with a given total and band (the rules only read total, band and partial). */
function score(total: number, band: News2Result['band'], partial = false): News2Result {
  return {
    total,
    band,
    partial,
    parameters: { rr: 0, spo2: 0, o2: 0, sbp: 0, hr: 0, acvpu: 0, temp: 0 },
  };
}

/** Run several steps, returning the final state and the changes of each step. */
function run(steps: AlarmInput[], start: AlarmState = EMPTY_ALARM_STATE) {
  let state = start;
  const changes: Alert[][] = [];
  for (const s of steps) {
    const out = stepAlarms(state, s, ids);
    state = out.state;
    changes.push(out.changes);
  }
  return { state, changes };
}

describe('limit alarms', () => {
  it('nothing violated → no alarm', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, input(T0, NORMAL), ids);
    expect(out.changes).toEqual([]);
    expect(out.state.open).toEqual({});
  });

  it('a limit crossing opens one active alarm', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, hr: 130 }), ids);
    const expected: Alert = {
      id: 'alarm-1',
      patientId: 'p1',
      kind: 'limit',
      category: 'physiological',
      parameter: 'hr',
      value: 130,
      limit: 120,
      priority: 'medium',
      state: 'active',
      message: 'Heart rate high 130 /min (limit 120)',
      ts: T0,
      endedAt: null,
      updatedAt: T0,
    };
    expect(out.changes).toEqual([expected]);
    expect(Object.values(out.state.open)).toEqual([expected]);
  });

  it.each<[string, VitalValues, string]>([
    ['low SpO2', { spo2: 85 }, 'SpO2 low 85 % (limit 90)'],
    ['low respiration', { rr: 6 }, 'Respiration rate low 6 /min (limit 8)'],
    ['high temperature', { temp: 39.2 }, 'Temperature high 39.2 °C (limit 38.5)'],
    ['low systolic', { sbp: 80 }, 'Systolic BP low 80 mmHg (limit 90)'],
    ['high diastolic', { dbp: 120 }, 'Diastolic BP high 120 mmHg (limit 110)'],
  ])('%s: readable message', (_name, values, message) => {
    const out = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, ...values }), ids);
    expect(out.changes).toHaveLength(1);
    expect(out.changes[0]?.message).toBe(message);
  });

  it('several parameters crossing open one alarm each', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, hr: 130, spo2: 85 }), ids);
    expect(out.changes.map((a) => [a.id, a.parameter])).toEqual([
      ['alarm-1', 'hr'],
      ['alarm-2', 'spo2'],
    ]);
    expect(Object.keys(out.state.open)).toHaveLength(2);
  });

  it('a repeated violation does not open a second alarm and is not pushed again', () => {
    const { state, changes } = run([
      input(T0, { ...NORMAL, hr: 130 }),
      input(T0 + 1000, { ...NORMAL, hr: 130 }),
      input(T0 + 2000, { ...NORMAL, hr: 135 }),
    ]);
    expect(changes.map((c) => c.length)).toEqual([1, 0, 0]);
    const open = Object.values(state.open);
    expect(open).toHaveLength(1);
    // Same alarm, started at T0, quietly carrying the latest value.
    expect(open[0]).toMatchObject({ id: 'alarm-1', ts: T0, value: 135, updatedAt: T0 + 2000, state: 'active' });
  });

  it('back within limits resolves it, with the same id', () => {
    const { state, changes } = run([input(T0, { ...NORMAL, hr: 130 }), input(T0 + 60_000, { ...NORMAL, hr: 100 })]);
    expect(changes[1]).toEqual([
      expect.objectContaining({ id: 'alarm-1', state: 'resolved', ts: T0, endedAt: T0 + 60_000, updatedAt: T0 + 60_000 }),
    ]);
    expect(state.open).toEqual({});
  });

  it('a value exactly at the limit is inside it and resolves', () => {
    const { changes } = run([input(T0, { ...NORMAL, hr: 121 }), input(T0 + 1000, { ...NORMAL, hr: 120 })]);
    expect(changes[1]?.[0]?.state).toBe('resolved');
  });

  it('a missing value does not resolve a limit alarm', () => {
    const { hr: _hr, ...withoutHr } = NORMAL;
    const { state, changes } = run([
      input(T0, { ...NORMAL, hr: 130 }),
      input(T0 + 1000, withoutHr),
      input(T0 + 2000, {}),
    ]);
    expect(changes.map((c) => c.length)).toEqual([1, 0, 0]);
    expect(Object.values(state.open)).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'active', value: 130 })]);
    // When the value comes back within limits, it resolves.
    const back = stepAlarms(state, input(T0 + 3000, NORMAL), ids);
    expect(back.changes).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'resolved', endedAt: T0 + 3000 })]);
  });

  it('resolves one parameter while another stays open', () => {
    const { state, changes } = run([
      input(T0, { ...NORMAL, hr: 130, spo2: 85 }),
      input(T0 + 1000, { ...NORMAL, hr: 130 }),
    ]);
    expect(changes[1]).toEqual([expect.objectContaining({ id: 'alarm-2', parameter: 'spo2', state: 'resolved' })]);
    expect(Object.values(state.open).map((a) => a.id)).toEqual(['alarm-1']);
  });

  it('a new crossing after resolution opens a new alarm with a new id', () => {
    const { changes } = run([
      input(T0, { ...NORMAL, hr: 130 }),
      input(T0 + 1000, NORMAL),
      input(T0 + 2000, { ...NORMAL, hr: 130 }),
    ]);
    expect(changes[2]).toEqual([expect.objectContaining({ id: 'alarm-2', state: 'active', ts: T0 + 2000 })]);
  });

  it('uses the patient limits instead of the defaults', () => {
    const limits = { hr: { high: 140 }, spo2: { low: 88 } };
    const quiet = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, hr: 130, spo2: 89 }, { limits }), ids);
    expect(quiet.changes).toEqual([]);
    const loud = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, hr: 141 }, { limits }), ids);
    expect(loud.changes).toEqual([expect.objectContaining({ parameter: 'hr', limit: 140 })]);
  });

  it('widening the limits resolves an open alarm', () => {
    const { changes } = run([
      input(T0, { ...NORMAL, hr: 130 }),
      input(T0 + 1000, { ...NORMAL, hr: 130 }, { limits: { hr: { high: 140 } } }),
    ]);
    expect(changes[1]).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'resolved' })]);
  });

  it('a jump from high to low on the same parameter is pushed, not updated silently', () => {
    // Crossing the other limit is news: clients and the alarm log must not keep showing "high".
    const { state, changes } = run([input(T0, { ...NORMAL, hr: 130 }), input(T0 + 1000, { ...NORMAL, hr: 40 })]);
    expect(Object.values(state.open)).toEqual([
      expect.objectContaining({ parameter: 'hr', value: 40, limit: 50, message: 'Heart rate low 40 /min (limit 50)' }),
    ]);
    expect(changes[1]).toEqual([expect.objectContaining({ parameter: 'hr', value: 40, limit: 50, message: 'Heart rate low 40 /min (limit 50)' })]);
  });
});

describe('NEWS2 alarms', () => {
  const withScore = (now: number, s: News2Result | null) => input(now, NORMAL, { score: s });

  it.each<[News2Result['band'], number]>([
    ['low', 0],
    ['low', 4],
    // A single 3 (low-medium) calls for a ward-based response, not a NEWS2 alarm; the
    // parameter's own limit alarm covers it.
    ['low-medium', 3],
  ])('band %s (total %d) opens no NEWS2 alarm', (band, total) => {
    expect(stepAlarms(EMPTY_ALARM_STATE, withScore(T0, score(total, band)), ids).changes).toEqual([]);
  });

  it('band medium → a medium-priority alarm at threshold 5', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, withScore(T0, score(5, 'medium')), ids);
    expect(out.changes).toEqual([
      {
        id: 'alarm-1',
        patientId: 'p1',
        kind: 'news2',
        category: 'physiological',
        parameter: 'news2',
        value: 5,
        limit: 5,
        priority: 'medium',
        state: 'active',
        message: `NEWS2 5 (medium): ${NEWS2_RESPONSE.medium}`,
        ts: T0,
        endedAt: null,
        updatedAt: T0,
      },
    ]);
  });

  it('band high → a high-priority alarm at threshold 7', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, withScore(T0, score(8, 'high')), ids);
    expect(out.changes).toEqual([
      expect.objectContaining({ kind: 'news2', priority: 'high', value: 8, limit: 7, message: `NEWS2 8 (high): ${NEWS2_RESPONSE.high}` }),
    ]);
  });

  it('a partial score says so in the message', () => {
    const out = stepAlarms(EMPTY_ALARM_STATE, withScore(T0, score(6, 'medium', true)), ids);
    expect(out.changes[0]?.message).toBe(`NEWS2 6 (medium, partial): ${NEWS2_RESPONSE.medium}`);
  });

  it('medium → high escalates the same alarm and pushes the priority update', () => {
    const { state, changes } = run([withScore(T0, score(5, 'medium')), withScore(T0 + 1000, score(7, 'high'))]);
    expect(changes[1]).toEqual([
      expect.objectContaining({ id: 'alarm-1', priority: 'high', value: 7, limit: 7, state: 'active', ts: T0, updatedAt: T0 + 1000 }),
    ]);
    expect(Object.values(state.open)).toHaveLength(1);
  });

  it('high → medium de-escalates and is pushed', () => {
    const { changes } = run([withScore(T0, score(7, 'high')), withScore(T0 + 1000, score(6, 'medium'))]);
    expect(changes[1]).toEqual([expect.objectContaining({ id: 'alarm-1', priority: 'medium', value: 6, limit: 5 })]);
  });

  it('a change of total within the band is pushed; the same total is not', () => {
    const { changes } = run([
      withScore(T0, score(5, 'medium')),
      withScore(T0 + 1000, score(5, 'medium')),
      withScore(T0 + 2000, score(6, 'medium')),
      withScore(T0 + 3000, score(6, 'medium')),
    ]);
    expect(changes.map((c) => c.map((a) => [a.id, a.value]))).toEqual([[['alarm-1', 5]], [], [['alarm-1', 6]], []]);
  });

  it.each<[News2Result['band'], number]>([
    ['low', 2],
    ['low-medium', 3],
  ])('back to %s resolves it', (band, total) => {
    const { state, changes } = run([withScore(T0, score(7, 'high')), withScore(T0 + 1000, score(total, band))]);
    expect(changes[1]).toEqual([expect.objectContaining({ id: 'alarm-1', kind: 'news2', state: 'resolved', endedAt: T0 + 1000 })]);
    expect(state.open).toEqual({});
  });

  it.each<[News2Result['band'], number]>([
    ['low', 2],
    ['low-medium', 3],
  ])('a partial %s score (total %d) does not resolve the alarm; a full low score does', (band, total) => {
    const { state, changes } = run([
      withScore(T0, score(7, 'high')),
      withScore(T0 + 1000, score(total, band, true)),
      withScore(T0 + 2000, score(total, band, true)),
    ]);
    expect(changes.slice(1)).toEqual([[], []]);
    expect(Object.values(state.open)).toEqual([
      expect.objectContaining({ id: 'alarm-1', kind: 'news2', state: 'active', priority: 'high', value: 7, limit: 7, endedAt: null }),
    ]);
    const full = stepAlarms(state, withScore(T0 + 3000, score(total, band, false)), ids);
    expect(full.changes).toEqual([
      expect.objectContaining({ id: 'alarm-1', kind: 'news2', state: 'resolved', ts: T0, endedAt: T0 + 3000, updatedAt: T0 + 3000 }),
    ]);
    expect(full.state.open).toEqual({});
  });

  it('a partial medium score does not de-escalate a high alarm; a full medium score does', () => {
    const { state, changes } = run([withScore(T0, score(8, 'high')), withScore(T0 + 1000, score(5, 'medium', true))]);
    expect(changes[1]).toEqual([]);
    expect(Object.values(state.open)).toEqual([
      expect.objectContaining({ id: 'alarm-1', state: 'active', priority: 'high', value: 8, limit: 7, updatedAt: T0 }),
    ]);
    const full = stepAlarms(state, withScore(T0 + 2000, score(5, 'medium')), ids);
    expect(full.changes).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'active', priority: 'medium', value: 5, limit: 5 })]);
  });

  it('a partial score can still escalate (medium → partial high)', () => {
    const { changes } = run([withScore(T0, score(5, 'medium')), withScore(T0 + 1000, score(7, 'high', true))]);
    expect(changes[1]).toEqual([
      expect.objectContaining({ id: 'alarm-1', priority: 'high', value: 7, message: `NEWS2 7 (high, partial): ${NEWS2_RESPONSE.high}` }),
    ]);
  });

  it('a partial low score does not resolve it, end to end with scoreNews2 (missing parameters)', () => {
    // Only hr and temp fresh: the score is partial and low.
    const partial = scoreNews2({ hr: 70, temp: 37.0 });
    expect(partial).toMatchObject({ partial: true, band: 'low' });
    const { state, changes } = run([withScore(T0, score(7, 'high')), input(T0 + 1000, { hr: 70, temp: 37.0 }, { score: partial })]);
    expect(changes[1]).toEqual([]);
    expect(Object.values(state.open)).toEqual([expect.objectContaining({ id: 'alarm-1', kind: 'news2', state: 'active' })]);
    const full = scoreNews2(NORMAL);
    expect(full).toMatchObject({ partial: false, band: 'low' });
    const out = stepAlarms(state, input(T0 + 2000, NORMAL, { score: full }), ids);
    expect(out.changes).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'resolved', endedAt: T0 + 2000 })]);
  });

  it('no score at all (nothing fresh) leaves the NEWS2 alarm open', () => {
    const { state, changes } = run([withScore(T0, score(6, 'medium')), withScore(T0 + 1000, null)]);
    expect(changes[1]).toEqual([]);
    expect(Object.values(state.open)).toEqual([expect.objectContaining({ id: 'alarm-1', state: 'active' })]);
  });

  it('works end to end with scoreNews2', () => {
    // hr 131 → 3, rr 22 → 2: NEWS2 5, medium; hr is also over the 120 limit.
    const values: VitalValues = { ...NORMAL, hr: 131, rr: 22 };
    const out = stepAlarms(EMPTY_ALARM_STATE, input(T0, values, { score: scoreNews2(values) }), ids);
    expect(out.changes.map((a) => [a.kind, a.parameter, a.priority])).toEqual([
      ['limit', 'hr', 'medium'],
      ['news2', 'news2', 'medium'],
    ]);
  });
});

describe('purity', () => {
  it('never mutates the state passed in (nor EMPTY_ALARM_STATE)', () => {
    const first = stepAlarms(EMPTY_ALARM_STATE, input(T0, { ...NORMAL, hr: 130 }, { score: score(5, 'medium') }), ids);
    expect(EMPTY_ALARM_STATE.open).toEqual({});
    const snapshot = structuredClone(first.state);
    stepAlarms(first.state, input(T0 + 1000, NORMAL, { score: score(0, 'low') }), ids);
    expect(first.state).toEqual(snapshot);
  });

  it('ids come only from the injected generator, one per opened alarm', () => {
    let calls = 0;
    const gen = () => `x${++calls}`;
    let state = EMPTY_ALARM_STATE;
    for (let i = 0; i < 5; i++) state = stepAlarms(state, input(T0 + i * 1000, { ...NORMAL, hr: 130 }), gen).state;
    expect(calls).toBe(1);
    expect(Object.values(state.open)[0]?.id).toBe('x1');
  });
});
