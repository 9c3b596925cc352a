// Alarm lifecycle state machine: delay, deduplication, latching, silence, acknowledgement,
// escalation. Sources: IEC 60601-1-8 terms (alarm condition delay, latching alarm signal,
// audio paused, acknowledged, alarm priority) and the WardPulse lifecycle spec, rules 1–5 of
// stepLifecycle and the applyAction rules (cited below as "spec rule N" and "spec action").
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_LIFECYCLE,
  EMPTY_PATIENT_ALARMS,
  applyAction,
  latches,
  restore,
  stepLifecycle,
  type LifecycleConfig,
  type PatientAlarms,
} from '../../server/pipeline/alarms/lifecycle.ts';
import type { Alarm, AlarmAction, AlarmState, Condition, Escalation, Transition } from '../../server/domain/alarms.ts';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const S = 1000;
const NURSE = { id: 'u-nurse', role: 'nurse' };

let newId: () => string;
beforeEach(() => {
  let n = 0;
  newId = () => `a${++n}`;
});

/** A medium heart-rate limit condition, firing at once unless told otherwise. */
function cond(over: Partial<Condition> = {}): Condition {
  return {
    key: 'limit:hr',
    kind: 'limit',
    category: 'physiological',
    priority: 'medium',
    parameter: 'hr',
    value: 130,
    limit: 120,
    rule: 'hr > 120',
    message: 'Heart rate above 130 /min (limit 120)',
    delayMs: 0,
    ...over,
  };
}
/** High priority, physiological: latches. */
const spo2 = (over: Partial<Condition> = {}): Condition =>
  cond({ key: 'limit:spo2', priority: 'high', parameter: 'spo2', value: 84, limit: 85, rule: 'spo2 < 85', message: 'SpO2 below 84 % (limit 85)', ...over });
const news2 = (value: number, priority: Condition['priority']): Condition =>
  cond({ key: 'news2:total', kind: 'news2', priority, parameter: 'news2', value, limit: priority === 'high' ? 7 : 5, rule: `NEWS2 ≥ ${priority === 'high' ? 7 : 5}`, message: `NEWS2 ${value}` });

type Op =
  | { at: number; step: Condition[] }
  | { at: number; act: AlarmAction; id?: string; comment?: string };

/** Play steps and actions (times in ms after T0); every action must succeed. */
function play(ops: Op[], cfg: LifecycleConfig = DEFAULT_LIFECYCLE, start: PatientAlarms = EMPTY_PATIENT_ALARMS) {
  let state = start;
  const transitions: Transition[] = [];
  const changes: Alarm[][] = [];
  const escalations: Escalation[] = [];
  for (const op of ops) {
    if ('step' in op) {
      const out = stepLifecycle(state, 'p1', op.step, T0 + op.at, newId, cfg);
      state = out.state;
      transitions.push(...out.transitions);
      changes.push(out.changes);
      escalations.push(...out.escalations);
    } else {
      const out = applyAction(state, op.id ?? 'a1', op.act, NURSE, T0 + op.at, op.comment ?? null, cfg);
      if (!out.ok) throw new Error(`${op.act} at ${op.at}: ${out.code} ${out.message}`);
      state = out.state;
      transitions.push(...out.transitions);
    }
  }
  return { state, transitions, changes, escalations };
}

/** Steps every second from `from` to `to` inclusive, with the same conditions. */
function every(from: number, to: number, conditions: Condition[]): Op[] {
  const ops: Op[] = [];
  for (let t = from; t <= to; t += S) ops.push({ at: t, step: conditions });
  return ops;
}

const short = (ts: Transition[]) => ts.map((t) => [t.from, t.to, t.by] as const);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('latches', () => {
  // IEC 60601-1-8 latching alarm signal; WardPulse latches high-priority physiological alarms only.
  it.each([
    ['high', 'physiological', true],
    ['medium', 'physiological', false],
    ['low', 'physiological', false],
    ['high', 'technical', false],
    ['medium', 'technical', false],
  ] as const)('%s %s → %s', (priority, category, expected) => {
    expect(latches({ priority, category })).toBe(expected);
  });
});

describe('alarm condition delay (spec rule 1)', () => {
  it.each([
    // [delayMs, condition held from 0 to (ms), fires at (ms) or null]
    [10 * S, 9 * S, null], // shorter than the delay: no alarm, ever
    [10 * S, 10 * S, 10 * S], // exactly since + delay
    [10 * S, 30 * S, 10 * S],
    [0, 0, 0], // delay 0: at once
    [5 * S, 4 * S, null],
  ])('delay %i ms, condition held until %i ms → fires at %s', (delayMs, heldUntil, firesAt) => {
    const c = cond({ delayMs });
    const { state, changes, transitions } = play([...every(0, heldUntil, [c]), { at: heldUntil + S, step: [] }, { at: heldUntil + 60 * S, step: [] }]);
    const opened = changes.flat().filter((a) => a.state === 'active');
    if (firesAt === null) {
      expect(opened).toEqual([]);
      expect(transitions).toEqual([]);
    } else {
      expect(opened).toHaveLength(1);
      expect(opened[0]!.ts).toBe(T0 + firesAt);
    }
    expect(state.pending).toEqual({}); // a dropped or fired pending entry leaves nothing behind
  });

  it('keeps the first sighting while pending, and forgets it once the condition is absent', () => {
    const c = cond({ delayMs: 10 * S });
    const a = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [c], T0, newId);
    expect(a.state.pending).toEqual({ 'limit:hr': T0 });
    const b = stepLifecycle(a.state, 'p1', [c], T0 + 5 * S, newId);
    expect(b.state.pending).toEqual({ 'limit:hr': T0 });
    const gap = stepLifecycle(b.state, 'p1', [], T0 + 6 * S, newId);
    expect(gap.state.pending).toEqual({});
    // Flapping restarts the delay: the condition must hold 10 s again from 7 s.
    const { changes } = play([{ at: 7 * S, step: [c] }, ...every(8 * S, 17 * S, [c])], DEFAULT_LIFECYCLE, gap.state);
    expect(changes.flat().map((x) => x.ts)).toEqual([T0 + 17 * S]);
  });

  it('fires an alarm with every field from the condition and a system transition', () => {
    const c = spo2({ delayMs: 0, deviceId: 'dev-7' });
    const out = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [c], T0, newId);
    const alarm: Alarm = {
      id: 'a1',
      patientId: 'p1',
      key: 'limit:spo2',
      kind: 'limit',
      category: 'physiological',
      priority: 'high',
      parameter: 'spo2',
      value: 84,
      limit: 85,
      rule: 'spo2 < 85',
      message: 'SpO2 below 84 % (limit 85)',
      state: 'active',
      ts: T0,
      endedAt: null,
      updatedAt: T0,
      conditionActive: true,
      latching: true,
      silencedUntil: null,
      acknowledgedBy: null,
      acknowledgedAt: null,
      acknowledgedValue: null,
      escalationLevel: 0,
      nextEscalationAt: T0 + 60 * S,
      deviceId: 'dev-7',
    };
    expect(out.state).toEqual({ pending: {}, open: { 'limit:spo2': alarm } });
    expect(out.changes).toEqual([alarm]);
    expect(out.escalations).toEqual([]);
    expect(out.transitions).toEqual([
      { alarmId: 'a1', patientId: 'p1', from: null, to: 'active', at: T0, by: null, byRole: null, comment: 'condition met: spo2 < 85' },
    ]);
  });

  it('a medium physiological alarm escalates after 15 min; a missing deviceId becomes null', () => {
    const [a] = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [cond()], T0, newId).changes;
    expect(a).toMatchObject({ priority: 'medium', latching: false, nextEscalationAt: T0 + 15 * 60 * S, deviceId: null });
  });

  it('medium technical and low alarms never escalate', () => {
    const offline = cond({ key: 'device-offline:d', kind: 'device-offline', category: 'technical', deviceId: 'd' });
    const low = cond({ key: 'obs-due', kind: 'obs-due', priority: 'low' });
    const out = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [offline, low], T0, newId);
    expect(out.changes.map((a) => a.nextEscalationAt)).toEqual([null, null]);
  });
});

describe('deduplication and updates (spec rule 2)', () => {
  it('a repeated condition keeps one alarm and pushes no change per reading', () => {
    const ops = [130, 131, 133, 129, 135].map((value, i) => ({ at: i * S, step: [cond({ value, message: `hr ${value}` })] }));
    const { state, changes } = play(ops);
    expect(changes.map((c) => c.length)).toEqual([1, 0, 0, 0, 0]);
    expect(Object.keys(state.open)).toEqual(['limit:hr']);
    expect(state.open['limit:hr']).toMatchObject({ id: 'a1', value: 135, message: 'hr 135', ts: T0, updatedAt: T0 + 4 * S });
  });

  it.each([
    // [what, first, then, pushed?]
    ['same value', cond(), cond(), false],
    ['new value', cond(), cond({ value: 140 }), false],
    ['new message and rule', cond(), cond({ message: 'x', rule: 'y' }), false],
    ['new limit (crossed the other limit)', cond(), cond({ value: 35, limit: 40 }), true],
    ['priority up', cond(), cond({ priority: 'high' }), true],
    ['priority down', cond({ priority: 'high' }), cond(), true],
    ['NEWS2 total changed', news2(5, 'medium'), news2(6, 'medium'), true],
    ['NEWS2 total unchanged', news2(5, 'medium'), news2(5, 'medium'), false],
  ])('%s → pushed: %s', (_what, first, then, pushed) => {
    const { state, changes } = play([{ at: 0, step: [first] }, { at: S, step: [then] }]);
    expect(changes[1]).toHaveLength(pushed ? 1 : 0);
    expect(state.open[then.key]).toMatchObject({ value: then.value, limit: then.limit, priority: then.priority, message: then.message, rule: then.rule });
  });

  it('NEWS2 medium → high restarts the escalation clock at the high delay (and latches); high → medium at the medium one', () => {
    const up = play([{ at: 0, step: [news2(5, 'medium')] }, { at: 10 * S, step: [news2(7, 'high')] }]);
    expect(up.changes[1]).toEqual([expect.objectContaining({ id: 'a1', priority: 'high', value: 7, nextEscalationAt: T0 + 70 * S, latching: true })]);
    const down = stepLifecycle(up.state, 'p1', [news2(6, 'medium')], T0 + 20 * S, newId);
    expect(down.changes).toEqual([expect.objectContaining({ priority: 'medium', nextEscalationAt: T0 + 20 * S + 15 * 60 * S })]);
    // The old high deadline no longer applies.
    expect(stepLifecycle(down.state, 'p1', [news2(6, 'medium')], T0 + 120 * S, newId).escalations).toEqual([]);
    expect(stepLifecycle(down.state, 'p1', [news2(6, 'medium')], T0 + 20 * S + 15 * 60 * S, newId).escalations).toEqual([
      expect.objectContaining({ level: 1, role: 'doctor' }),
    ]);
  });

  // IEC 60601-1-8 §6.8: acknowledgement (and audio paused) applies to the alarm condition as it was.
  it('a priority rise on an acknowledged alarm re-activates it: flashing, escalating from level 0, with the reason in the trail', () => {
    const { state, transitions, escalations } = play([
      { at: 0, step: [cond()] },
      { at: S, act: 'ack' },
      { at: 2 * S, step: [cond({ priority: 'high', value: 155 })] },
      ...every(3 * S, 62 * S, [cond({ priority: 'high', value: 155 })]),
    ]);
    expect(state.open['limit:hr']).toMatchObject({
      state: 'active',
      priority: 'high',
      acknowledgedBy: null,
      acknowledgedAt: null,
      escalationLevel: 1,
      nextEscalationAt: T0 + 62 * S + 60 * S,
    });
    expect(transitions.map((t) => [t.from, t.to, t.by, t.comment])).toEqual([
      [null, 'active', null, 'condition met: hr > 120'],
      ['active', 'acknowledged', 'u-nurse', null],
      ['acknowledged', 'active', null, 'priority rose: medium → high'],
    ]);
    expect(escalations).toEqual([expect.objectContaining({ level: 1, at: T0 + 62 * S })]);
  });

  it('a priority rise on a silenced alarm ends the silence at once', () => {
    const { state, transitions } = play([
      { at: 0, step: [cond()] },
      { at: S, act: 'silence' },
      { at: 5 * S, step: [cond({ priority: 'high' })] },
    ]);
    expect(state.open['limit:hr']).toMatchObject({ state: 'active', silencedUntil: null, nextEscalationAt: T0 + 65 * S });
    expect(transitions.at(-1)).toMatchObject({ from: 'silenced', to: 'active', comment: 'priority rose: medium → high' });
  });

  it('a NEWS2 band rising at the same priority re-activates too (a single 3 → 5–6, both medium)', () => {
    const single = cond({ key: 'news2:total', kind: 'news2', parameter: 'news2', value: 3, limit: 3, rule: 'a single NEWS2 parameter scores 3', message: 'NEWS2 3' });
    const { state, transitions } = play([
      { at: 0, step: [single] },
      { at: S, act: 'ack' },
      { at: 2 * S, step: [news2(5, 'medium')] },
    ]);
    expect(state.open['news2:total']).toMatchObject({ state: 'active', priority: 'medium', limit: 5 });
    expect(transitions.at(-1)).toMatchObject({ from: 'acknowledged', to: 'active', comment: 'NEWS2 band rose: low-medium → medium' });
  });

  it('the same or a lower priority leaves an acknowledgement alone', () => {
    const { state, transitions } = play([
      { at: 0, step: [cond({ priority: 'high' })] },
      { at: S, act: 'ack' },
      { at: 2 * S, step: [cond({ priority: 'high', value: 160 })] },
      { at: 3 * S, step: [cond({ priority: 'medium' })] },
    ]);
    expect(state.open['limit:hr']).toMatchObject({ state: 'acknowledged', priority: 'medium', nextEscalationAt: null });
    expect(transitions).toHaveLength(2);
  });

  it('a NEWS2 total rising by 2 within its band after an acknowledgement is news; crossing into a higher band re-alarms', () => {
    const { state, changes, transitions } = play([
      { at: 0, step: [news2(7, 'high')] },
      { at: S, act: 'ack' },
      { at: 2 * S, step: [news2(8, 'high')] },
      { at: 3 * S, step: [news2(9, 'high')] },
      { at: 4 * S, step: [news2(10, 'high')] },
      { at: 5 * S, step: [news2(11, 'high')] },
    ]);
    expect(state.open['news2:total']).toMatchObject({ state: 'acknowledged', value: 11, acknowledgedValue: 11 });
    expect(transitions.slice(2).map((t) => [t.from, t.to, t.comment])).toEqual([
      ['acknowledged', 'acknowledged', 'NEWS2 rose 7 → 9 since acknowledged'],
      ['acknowledged', 'acknowledged', 'NEWS2 rose 9 → 11 since acknowledged'],
    ]);
    expect(changes[2]!.length + changes[3]!.length).toBe(2); // every new total is pushed
    const realarm = play([
      { at: 0, step: [news2(5, 'medium')] },
      { at: S, act: 'ack', id: 'a2' },
      { at: 2 * S, step: [news2(9, 'high')] },
    ]);
    expect(realarm.state.open['news2:total']).toMatchObject({ state: 'active', priority: 'high' });
    expect(realarm.transitions.at(-1)).toMatchObject({ from: 'acknowledged', to: 'active', comment: 'priority rose: medium → high' });
  });
});

describe('clearing (spec rule 3)', () => {
  it('a non-latching alarm resolves by itself when its condition clears', () => {
    const { state, changes, transitions } = play([{ at: 0, step: [cond()] }, { at: 5 * S, step: [] }]);
    expect(state.open).toEqual({});
    expect(changes[1]).toEqual([expect.objectContaining({ id: 'a1', state: 'resolved', endedAt: T0 + 5 * S, conditionActive: false })]);
    expect(transitions[1]).toEqual({ alarmId: 'a1', patientId: 'p1', from: 'active', to: 'resolved', at: T0 + 5 * S, by: null, byRole: null, comment: 'condition cleared' });
  });

  it('a high technical alarm does not latch', () => {
    const offline = cond({ key: 'device-offline:dev-1', kind: 'device-offline', category: 'technical', priority: 'high', deviceId: 'dev-1' });
    const { state } = play([{ at: 0, step: [offline] }, { at: S, step: [] }]);
    expect(state.open).toEqual({});
  });

  it('a latching alarm outlives its condition until acknowledged, and the ack resolves it', () => {
    const cleared = play([{ at: 0, step: [spo2()] }, ...every(S, 10 * S, [])]);
    // Pushed once when the condition flips, then quiet.
    expect(cleared.changes.map((c) => c.length)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(cleared.state.open['limit:spo2']).toMatchObject({ state: 'active', conditionActive: false, endedAt: null });

    const out = applyAction(cleared.state, 'a1', 'ack', NURSE, T0 + 20 * S, 'seen, probe repositioned');
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.state.open).toEqual({});
    expect(out.alarm).toMatchObject({ state: 'resolved', endedAt: T0 + 20 * S, acknowledgedBy: 'u-nurse', acknowledgedAt: T0 + 20 * S });
    expect(out.transitions).toEqual([
      { alarmId: 'a1', patientId: 'p1', from: 'active', to: 'acknowledged', at: T0 + 20 * S, by: 'u-nurse', byRole: 'nurse', comment: 'seen, probe repositioned' },
      { alarmId: 'a1', patientId: 'p1', from: 'acknowledged', to: 'resolved', at: T0 + 20 * S, by: 'u-nurse', byRole: 'nurse', comment: 'acknowledged after its condition cleared' },
    ]);
  });

  it('a latched alarm whose condition returns is pushed again with conditionActive true', () => {
    const { state, changes } = play([{ at: 0, step: [spo2()] }, { at: S, step: [] }, { at: 2 * S, step: [spo2()] }]);
    expect(changes[2]).toEqual([expect.objectContaining({ id: 'a1', conditionActive: true })]);
    expect(state.open['limit:spo2']!.id).toBe('a1');
  });

  it('an acknowledged latching alarm resolves when its condition clears', () => {
    const { state, transitions } = play([{ at: 0, step: [spo2()] }, { at: S, act: 'ack' }, { at: 2 * S, step: [spo2()] }, { at: 3 * S, step: [] }]);
    expect(state.open).toEqual({});
    expect(transitions.at(-1)).toMatchObject({ from: 'acknowledged', to: 'resolved', by: null, comment: 'condition cleared' });
  });

  it('a new occurrence after resolution is a fresh alarm with a new id (and a fresh delay)', () => {
    const c = cond({ delayMs: 2 * S });
    const { state, changes } = play([...every(0, 2 * S, [c]), { at: 3 * S, step: [] }, ...every(4 * S, 6 * S, [c])]);
    expect(changes.flat().map((a) => [a.id, a.state, a.ts - T0])).toEqual([
      ['a1', 'active', 2 * S],
      ['a1', 'resolved', 2 * S],
      ['a2', 'active', 6 * S],
    ]);
    expect(state.open['limit:hr']!.id).toBe('a2');
  });
});

describe('operator actions (spec action rules)', () => {
  it('resolve is refused while the condition holds and allowed once it has cleared', () => {
    const { state } = play([{ at: 0, step: [spo2()] }]);
    expect(applyAction(state, 'a1', 'resolve', NURSE, T0 + S, null)).toEqual({
      ok: false,
      code: 'ERR_ILLEGAL_TRANSITION',
      message: 'condition still present: SpO2 below 84 % (limit 85)',
    });
    const cleared = stepLifecycle(state, 'p1', [], T0 + 2 * S, newId).state;
    const out = applyAction(cleared, 'a1', 'resolve', NURSE, T0 + 3 * S, 'false alarm: probe off');
    expect(out).toMatchObject({ ok: true, alarm: { state: 'resolved', endedAt: T0 + 3 * S } });
    if (!out.ok) return;
    expect(out.state.open).toEqual({});
    expect(short(out.transitions)).toEqual([['active', 'resolved', 'u-nurse']]);
  });

  it('silence pauses escalation; at expiry the alarm is active again and the escalation clock restarts (spec rule 4)', () => {
    const silenced = play([{ at: 0, step: [spo2()] }, { at: 30 * S, act: 'silence' }]);
    expect(silenced.state.open['limit:spo2']).toMatchObject({ state: 'silenced', silencedUntil: T0 + 150 * S, nextEscalationAt: null });

    const later = play([...every(31 * S, 270 * S, [spo2()])], DEFAULT_LIFECYCLE, silenced.state);
    const t = later.transitions.map((x) => [x.from, x.to, x.at - T0, x.by, x.comment]);
    expect(t).toEqual([['silenced', 'active', 150 * S, null, 'silence expired']]);
    // No escalation during the silence; the first one 60 s after it expired, then every 60 s.
    expect(later.escalations.map((e) => [e.at - T0, e.level])).toEqual([
      [210 * S, 1],
      [270 * S, 2],
    ]);
  });

  it('silence expiry restarts a medium physiological alarm\'s escalation clock (15 min)', () => {
    const { state } = play([{ at: 0, step: [cond()] }, { at: S, act: 'silence' }, { at: 121 * S, step: [cond()] }]);
    expect(state.open['limit:hr']).toMatchObject({ state: 'active', silencedUntil: null, nextEscalationAt: T0 + 121 * S + 15 * 60 * S });
  });

  it.each([
    // [prior actions, action, expected code, message pattern]
    [['silence'], 'silence', 'ERR_ILLEGAL_TRANSITION', /^alarm a1 is already silenced until 2024-06-01T12:02:01\.000Z$/],
    [['ack'], 'ack', 'ERR_ILLEGAL_TRANSITION', /already acknowledged/],
    [['silence', 'ack'], 'ack', 'ERR_ILLEGAL_TRANSITION', /already acknowledged/],
    [[], 'resolve', 'ERR_ILLEGAL_TRANSITION', /^condition still present: /],
  ] as const)('after %j, %s → %s', (prior, action, code, message) => {
    const { state } = play([{ at: 0, step: [spo2()] }, ...prior.map((act) => ({ at: S, act }))]);
    const out = applyAction(state, 'a1', action, NURSE, T0 + 2 * S, null);
    expect(out).toEqual({ ok: false, code, message: expect.stringMatching(message) });
  });

  it.each([
    // [from, actions to reach it, action, to]
    ['active', [], 'ack', 'acknowledged'],
    ['silenced', ['silence'], 'ack', 'acknowledged'],
    ['active', [], 'silence', 'silenced'],
    ['acknowledged', ['ack'], 'silence', 'silenced'],
  ] as const)('%s (after %j) --%s--> %s', (from, prior, action, to) => {
    const { state } = play([{ at: 0, step: [spo2()] }, ...prior.map((act) => ({ at: S, act }))]);
    expect(state.open['limit:spo2']!.state).toBe(from);
    const out = applyAction(state, 'a1', action, NURSE, T0 + 2 * S, 'c');
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.alarm.state).toBe(to);
    expect(out.state.open['limit:spo2']).toEqual(out.alarm);
    expect(out.transitions).toEqual([{ alarmId: 'a1', patientId: 'p1', from, to, at: T0 + 2 * S, by: 'u-nurse', byRole: 'nurse', comment: 'c' }]);
  });

  it('ack clears silence and escalation', () => {
    const { state } = play([{ at: 0, step: [spo2()] }, { at: S, act: 'silence' }, { at: 2 * S, act: 'ack' }]);
    expect(state.open['limit:spo2']).toMatchObject({ state: 'acknowledged', silencedUntil: null, nextEscalationAt: null, acknowledgedBy: 'u-nurse', acknowledgedAt: T0 + 2 * S });
  });

  it('an unknown or already resolved alarm is not found', () => {
    const { state } = play([{ at: 0, step: [cond()] }, { at: S, step: [] }]);
    for (const id of ['a1', 'nope']) {
      for (const action of ['ack', 'silence', 'resolve'] as const) {
        expect(applyAction(state, id, action, NURSE, T0 + 2 * S, null)).toEqual({ ok: false, code: 'ERR_NOT_FOUND', message: `no open alarm ${id}` });
      }
    }
  });

  it('an acknowledged alarm stays acknowledged while its condition holds (no re-alarm)', () => {
    const { state, changes, transitions } = play([{ at: 0, step: [spo2()] }, { at: S, act: 'ack' }, ...every(2 * S, 600 * S, [spo2({ value: 83 })])]);
    expect(state.open['limit:spo2']).toMatchObject({ id: 'a1', state: 'acknowledged', value: 83 });
    expect(changes.slice(1).flat()).toEqual([]);
    expect(short(transitions)).toEqual([[null, 'active', null], ['active', 'acknowledged', 'u-nurse']]);
  });
});

describe('escalation (spec rule 5)', () => {
  it('an unacknowledged high alarm escalates every 60 s: nurse → doctor → doctor', () => {
    const { changes, escalations } = play(every(0, 200 * S, [spo2()]));
    expect(escalations.map((e) => [e.at - T0, e.level, e.role])).toEqual([
      [60 * S, 1, 'doctor'],
      [120 * S, 2, 'doctor'],
      [180 * S, 3, 'doctor'],
    ]);
    for (const e of escalations) {
      expect(e.alarm).toMatchObject({ id: 'a1', escalationLevel: e.level, nextEscalationAt: e.at + 60 * S });
      expect(changes.flat()).toContainEqual(e.alarm);
    }
  });

  it.each([
    // [roles, expected roles for levels 1..4] — level 0 (the firing itself) goes to roles[0]
    [['nurse', 'doctor'], ['doctor', 'doctor', 'doctor', 'doctor']],
    [['nurse', 'charge-nurse', 'doctor'], ['charge-nurse', 'doctor', 'doctor', 'doctor']],
    [['nurse'], ['nurse', 'nurse', 'nurse', 'nurse']],
  ])('roles %j → %j', (escalationRoles, expected) => {
    const cfg = { ...DEFAULT_LIFECYCLE, escalationRoles };
    const { escalations } = play(every(0, 240 * S, [spo2()]), cfg);
    expect(escalations.map((e) => e.role)).toEqual(expected);
  });

  it('a late step escalates once, and the next deadline counts from then', () => {
    const { escalations } = play([{ at: 0, step: [spo2()] }, { at: 59 * S, step: [spo2()] }, { at: 200 * S, step: [spo2()] }, { at: 259 * S, step: [spo2()] }, { at: 260 * S, step: [spo2()] }]);
    expect(escalations.map((e) => [e.at - T0, e.level])).toEqual([[200 * S, 1], [260 * S, 2]]);
  });

  it('a latched alarm whose condition cleared keeps escalating until someone acknowledges it', () => {
    const { escalations } = play([{ at: 0, step: [spo2()] }, ...every(S, 125 * S, [])]);
    expect(escalations.map((e) => [e.level, e.alarm.conditionActive])).toEqual([[1, false], [2, false]]);
  });

  it('ack stops escalation', () => {
    const { escalations } = play([...every(0, 30 * S, [spo2()]), { at: 30 * S, act: 'ack' }, ...every(31 * S, 600 * S, [spo2()])]);
    expect(escalations).toEqual([]);
  });

  it.each(['medium', 'low'] as const)('a %s alarm never escalates', (priority) => {
    const { escalations, changes } = play(every(0, 600 * S, [cond({ priority })]));
    expect(escalations).toEqual([]);
    expect(changes.flat()).toHaveLength(1);
  });
});

describe('transitions for every path', () => {
  const C = spo2();
  const M = cond();
  it.each<[string, Op[], Array<readonly [AlarmState | null, AlarmState, string | null]>]>([
    ['fire', [{ at: 0, step: [M] }], [[null, 'active', null]]],
    ['fire, clear (non-latching)', [{ at: 0, step: [M] }, { at: S, step: [] }], [[null, 'active', null], ['active', 'resolved', null]]],
    ['fire, silence, clear (non-latching)', [{ at: 0, step: [M] }, { at: S, act: 'silence' }, { at: 2 * S, step: [] }], [[null, 'active', null], ['active', 'silenced', 'u-nurse'], ['silenced', 'resolved', null]]],
    ['fire, ack, clear', [{ at: 0, step: [C] }, { at: S, act: 'ack' }, { at: 2 * S, step: [] }], [[null, 'active', null], ['active', 'acknowledged', 'u-nurse'], ['acknowledged', 'resolved', null]]],
    ['fire, silence, expiry', [{ at: 0, step: [C] }, { at: S, act: 'silence' }, { at: 121 * S, step: [C] }], [[null, 'active', null], ['active', 'silenced', 'u-nurse'], ['silenced', 'active', null]]],
    ['fire, ack, silence, expiry', [{ at: 0, step: [C] }, { at: S, act: 'ack' }, { at: 2 * S, act: 'silence' }, { at: 122 * S, step: [C] }], [[null, 'active', null], ['active', 'acknowledged', 'u-nurse'], ['acknowledged', 'silenced', 'u-nurse'], ['silenced', 'active', null]]],
    ['fire, silence, ack', [{ at: 0, step: [C] }, { at: S, act: 'silence' }, { at: 2 * S, act: 'ack' }], [[null, 'active', null], ['active', 'silenced', 'u-nurse'], ['silenced', 'acknowledged', 'u-nurse']]],
    ['latched: fire, clear, ack', [{ at: 0, step: [C] }, { at: S, step: [] }, { at: 2 * S, act: 'ack' }], [[null, 'active', null], ['active', 'acknowledged', 'u-nurse'], ['acknowledged', 'resolved', 'u-nurse']]],
    ['latched: fire, silence, clear, ack', [{ at: 0, step: [C] }, { at: S, act: 'silence' }, { at: 2 * S, step: [] }, { at: 3 * S, act: 'ack' }], [[null, 'active', null], ['active', 'silenced', 'u-nurse'], ['silenced', 'acknowledged', 'u-nurse'], ['acknowledged', 'resolved', 'u-nurse']]],
    ['latched: fire, clear, resolve', [{ at: 0, step: [C] }, { at: S, step: [] }, { at: 2 * S, act: 'resolve' }], [[null, 'active', null], ['active', 'resolved', 'u-nurse']]],
    ['latched: fire, silence, clear, resolve', [{ at: 0, step: [C] }, { at: S, act: 'silence' }, { at: 2 * S, step: [] }, { at: 3 * S, act: 'resolve' }], [[null, 'active', null], ['active', 'silenced', 'u-nurse'], ['silenced', 'resolved', 'u-nurse']]],
  ])('%s', (_name, ops, expected) => {
    const { transitions } = play(ops);
    expect(short(transitions)).toEqual(expected);
    for (const t of transitions) {
      expect(t).toMatchObject({ alarmId: 'a1', patientId: 'p1', byRole: t.by === null ? null : 'nurse' });
    }
  });
});

describe('restore', () => {
  /** One alarm in each open situation: latched-and-cleared, silenced, acknowledged, medium active. */
  function busyState(): PatientAlarms {
    return play([
      { at: 0, step: [spo2(), cond(), news2(7, 'high'), cond({ key: 'limit:rr', parameter: 'rr', value: 30, limit: 24 })] },
      { at: S, act: 'silence', id: 'a3' },
      { at: S, act: 'ack', id: 'a2' },
      { at: 2 * S, step: [cond(), news2(7, 'high'), cond({ key: 'limit:rr', parameter: 'rr', value: 30, limit: 24 })] },
    ]).state;
  }

  it('round trip: the open alarms rebuild the same state', () => {
    const state = busyState();
    expect(Object.values(state.open).map((a) => [a.key, a.state, a.conditionActive])).toEqual([
      ['limit:spo2', 'active', false],
      ['limit:hr', 'acknowledged', true],
      ['news2:total', 'silenced', true],
      ['limit:rr', 'active', true],
    ]);
    const restored = restore(structuredClone(Object.values(state.open)));
    expect(restored).toEqual(state);
    // And it behaves the same from then on.
    const conditions = [cond(), news2(8, 'high')];
    const a = stepLifecycle(state, 'p1', conditions, T0 + 200 * S, () => 'x');
    const b = stepLifecycle(restored, 'p1', conditions, T0 + 200 * S, () => 'x');
    expect(b).toEqual(a);
  });

  it('ignores resolved rows and keeps the newest alarm per key', () => {
    const [old] = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [cond()], T0, () => 'old').changes;
    const [recent] = stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', [cond()], T0 + S, () => 'new').changes;
    const gone: Alarm = { ...old!, id: 'gone', key: 'limit:rr', state: 'resolved', endedAt: T0 };
    expect(restore([recent!, old!, gone])).toEqual({ pending: {}, open: { 'limit:hr': recent } });
    expect(restore([])).toEqual({ pending: {}, open: {} });
  });

  it('pending delays are not persisted: a condition still holding waits its delay again', () => {
    const c = cond({ delayMs: 10 * S });
    const { changes } = play(every(0, 10 * S, [c]), DEFAULT_LIFECYCLE, restore([]));
    expect(changes.flat().map((a) => a.ts - T0)).toEqual([10 * S]);
  });
});

describe('purity', () => {
  it('stepLifecycle and applyAction never mutate their inputs', () => {
    const rr = cond({ delayMs: 5 * S, key: 'limit:rr' });
    const state = deepFreeze(
      play([
        { at: 0, step: [spo2(), cond(), news2(5, 'medium')] },
        { at: S, act: 'silence', id: 'a2' },
        { at: 2 * S, step: [cond(), news2(5, 'medium'), rr] }, // spo2 cleared: latched
      ]).state,
    );
    expect(Object.keys(state.pending)).toEqual(['limit:rr']);
    const before = structuredClone(state);
    const conditions = deepFreeze([spo2(), news2(7, 'high'), cond(), rr]);
    // Each path that writes: fire, update, clear, latch, expire, escalate, and every action.
    for (const now of [T0 + 3 * S, T0 + 61 * S, T0 + 200 * S]) {
      stepLifecycle(state, 'p1', conditions, now, newId);
      stepLifecycle(state, 'p1', [], now, newId);
    }
    for (const id of ['a1', 'a2', 'a3']) {
      for (const action of ['ack', 'silence', 'resolve'] as const) applyAction(state, id, action, NURSE, T0 + 4 * S, null);
    }
    expect(state).toEqual(before);
    // The frozen empty state is a safe starting point.
    expect(() => stepLifecycle(EMPTY_PATIENT_ALARMS, 'p1', conditions, T0, newId)).not.toThrow();
    expect(EMPTY_PATIENT_ALARMS).toEqual({ pending: {}, open: {} });
  });
});
