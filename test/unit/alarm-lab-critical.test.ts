// Critical lab results in the engine (pipeline/alarms/lab-critical.ts, engine.labCritical): a
// high-priority physiological alarm per result, latched once its report has passed (IEC 60601-1-8
// latching alarm signal), escalating until a clinician acknowledges it (which resolves it) or
// resolves it; a patient known only from a lab result gets no observations-due reminder. Time is
// virtual.
import { describe, expect, it } from 'vitest';
import { AlarmEngine, DEFAULT_ENGINE } from '../../server/pipeline/alarms/engine.ts';
import { labCriticalConditions, type LabCriticalResult } from '../../server/pipeline/alarms/lab-critical.ts';
import type { Reading } from '../../server/domain/vitals.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const S = 1000;
const MIN = 60 * S;
const NURSE = { id: 'u-nurse', role: 'nurse' };

const K: LabCriticalResult = { testId: 't-k', code: '2823-3', name: 'Potassium', unit: 'mmol/L', value: 7.1, flag: 'HH', limit: 6.5 };
const NA: LabCriticalResult = { testId: 't-na', code: '2951-2', name: 'Sodium', unit: 'mmol/L', value: 118, flag: 'LL', limit: 120 };

function engine() {
  let n = 0;
  return new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => `a${++n}` }, DEFAULT_ENGINE);
}

describe('labCriticalConditions', () => {
  it('one high-priority physiological condition per result, at once, keyed by order and test', () => {
    expect(labCriticalConditions('o1', [K, NA])).toEqual([
      {
        key: 'lab-critical:o1:t-k',
        kind: 'lab-critical',
        category: 'physiological',
        priority: 'high',
        parameter: '2823-3',
        value: 7.1,
        limit: 6.5,
        rule: 'Potassium > 6.5 mmol/L (critical high)',
        message: 'Critical lab result: Potassium 7.1 mmol/L (HH; critical above 6.5 mmol/L): tell the responsible clinician now',
        delayMs: 0,
      },
      expect.objectContaining({ key: 'lab-critical:o1:t-na', rule: 'Sodium < 120 mmol/L (critical low)', message: expect.stringContaining('Sodium 118 mmol/L (LL; critical below 120 mmol/L)') }),
    ]);
  });
});

describe('the engine and a critical lab result', () => {
  it('raises a latched high alarm that escalates until acknowledged, and the acknowledgement ends it', () => {
    const e = engine();
    const out = e.labCritical('p1', 'o1', [K], T0);
    // Raised, and latched at once: the report has passed, the alarm waits for a clinician.
    expect(out.alarms).toEqual([expect.objectContaining({ kind: 'lab-critical', priority: 'high', state: 'active', latching: true, conditionActive: false, patientId: 'p1', value: 7.1, limit: 6.5 })]);
    expect(out.transitions).toEqual([expect.objectContaining({ from: null, to: 'active', comment: 'condition met: Potassium > 6.5 mmol/L (critical high)' })]);
    const id = out.alarms[0]!.id;

    // Time alone changes nothing until it escalates.
    expect(e.tick(T0 + S)).toMatchObject({ alarms: [], transitions: [] });

    // Nobody answers: it escalates after ESCALATE_AFTER_S, like every high-priority alarm.
    const escalations = [];
    for (let t = 2 * S; t <= 61 * S; t += S) escalations.push(...e.tick(T0 + t).escalations);
    expect(escalations).toEqual([expect.objectContaining({ level: 1, role: 'doctor', alarm: expect.objectContaining({ id }) })]);

    // A nurse acknowledges it: the critical result has reached a clinician; the alarm ends.
    const ack = e.act(id, 'ack', NURSE, T0 + 70 * S, 'doctor informed, repeat K+ ordered');
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    expect(ack.alarm).toMatchObject({ state: 'resolved', acknowledgedBy: 'u-nurse' });
    expect(ack.transitions.map((t) => [t.from, t.to, t.comment])).toEqual([
      ['active', 'acknowledged', 'doctor informed, repeat K+ ordered'],
      ['acknowledged', 'resolved', 'acknowledged after its condition cleared'],
    ]);
    expect(e.openAlarms('p1')).toEqual([]);
  });

  it('can be silenced (audio paused) and comes back when the silence ends; a clinician may resolve it', () => {
    const e = engine();
    const id = e.labCritical('p1', 'o1', [K], T0).alarms[0]!.id;
    // Resolvable by a clinician at once: nothing is still being measured that would re-alarm.
    const other = e.labCritical('p1', 'o0', [NA], T0);
    expect(e.act(other.alarms[0]!.id, 'resolve', NURSE, T0 + S, 'repeat sample ordered')).toMatchObject({ ok: true, alarm: { state: 'resolved' } });
    const silenced = e.act(id, 'silence', NURSE, T0 + 2 * S, null);
    expect(silenced).toMatchObject({ ok: true, alarm: { state: 'silenced' } });
    const back = e.tick(T0 + 2 * S + DEFAULT_ENGINE.lifecycle.silenceMs);
    expect(back.alarms).toEqual([expect.objectContaining({ id, state: 'active' })]);
    expect(back.transitions).toEqual([expect.objectContaining({ from: 'silenced', to: 'active', comment: 'silence expired' })]);
    expect(e.act(id, 'resolve', NURSE, T0 + 3 * MIN, 'seen')).toMatchObject({ ok: true, alarm: { state: 'resolved' } });
  });

  it('gives each critical result of an order its own alarm, and each order its own', () => {
    const e = engine();
    const first = e.labCritical('p1', 'o1', [K, NA], T0);
    expect(first.alarms.map((a) => a.key).sort()).toEqual(['lab-critical:o1:t-k', 'lab-critical:o1:t-na']);
    const second = e.labCritical('p1', 'o2', [K], T0 + 10 * S);
    expect(second.alarms.map((a) => a.key)).toEqual(['lab-critical:o2:t-k']);
    expect(e.openAlarms('p1')).toHaveLength(3);
  });

  it('starts no observations-due clock for a patient known only from a lab result, until monitored', () => {
    const e = engine();
    e.labCritical('p1', 'o1', [K], T0);
    const later = e.tick(T0 + 13 * 60 * MIN);
    expect(later.alarms.filter((a) => a.kind === 'obs-due')).toEqual([]);
    expect(e.observations('p1')).toBeNull();
    // A nurse records an observation: monitored from now; the hourly reminder (no score yet
    // complete) counts from here, not from the lab result.
    const obs: Reading = { ts: T0 + 13 * 60 * MIN, receivedAt: T0 + 13 * 60 * MIN, values: { temp: 37 }, deviceId: null, patientId: 'p1', source: 'manual' };
    e.reading(obs, T0 + 13 * 60 * MIN);
    expect(e.observations('p1')).toMatchObject({ dueAt: T0 + 13 * 60 * MIN + 60 * MIN });
    // And the snapshot says so, for the next start.
    expect(e.snapshots(true).find((s) => s.patientId === 'p1')?.snapshot.observed).toBe(true);
  });

  it('restores a lab-only patient as not monitored, and an older snapshot as monitored', () => {
    const e = engine();
    const alarm = e.labCritical('p1', 'o1', [K], T0).alarms[0]!;
    const snap = e.snapshots(true).find((s) => s.patientId === 'p1')!.snapshot;
    expect(snap.observed).toBe(false);
    const restored = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => 'x' }, DEFAULT_ENGINE, [alarm], new Map([['p1', snap]]), T0 + MIN);
    expect(restored.observations('p1')).toBeNull();
    expect(restored.openAlarms('p1')).toEqual([expect.objectContaining({ id: alarm.id, kind: 'lab-critical' })]);
    // Without a snapshot, a patient whose only open alarm is a lab result is not monitored either.
    const noSnap = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => 'x' }, DEFAULT_ENGINE, [alarm], new Map(), T0 + MIN);
    expect(noSnap.observations('p1')).toBeNull();
    const { observed: _, ...old } = snap;
    const fromOld = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => 'x' }, DEFAULT_ENGINE, [], new Map([['p1', old]]), T0 + MIN);
    expect(fromOld.observations('p1')).not.toBeNull();
  });
});
