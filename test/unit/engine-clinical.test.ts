// The monitoring engine's clinical rules that live between the pure modules: the manual window
// narrowed to the RCP monitoring interval, the persistence filter against artefacts, SpO2 0 as a
// technical "no signal", a full set resetting the observations timer. Time is virtual.
import { describe, expect, it } from 'vitest';
import { AlarmEngine, DEFAULT_ENGINE, type EngineOutput } from '../../server/pipeline/alarms/engine.ts';
import type { Reading, VitalValues } from '../../server/domain/vitals.ts';
import { takeNoSignal } from '../../server/pipeline/no-signal.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const S = 1000;
const MIN = 60 * S;
const NORMAL: VitalValues = { hr: 72, rr: 15, spo2: 97, temp: 37, sbp: 125, dbp: 80 };

function engine() {
  let n = 0;
  return new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => `a${++n}` }, DEFAULT_ENGINE);
}
const device = (ts: number, values: VitalValues): Reading => ({ ts, receivedAt: ts, values, deviceId: 'd1', patientId: 'p1', source: 'device' });
const manual = (ts: number, values: VitalValues): Reading => ({ ts, receivedAt: ts, values, deviceId: null, patientId: 'p1', source: 'manual' });
const lastScore = (outs: EngineOutput[]) => outs.flatMap((o) => o.scores).at(-1);

describe('the engine between the rules', () => {
  it('a manual assessment counts no longer than the monitoring interval its score calls for', () => {
    const e = engine();
    const outs: EngineOutput[] = [];
    // Device streams; the nurse finds the patient confused (C: 3 → hourly observations).
    for (let t = 0; t <= 5 * S; t += S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    outs.push(e.reading(manual(T0 + 6 * S, { acvpu: 'C', o2: false }), T0 + 6 * S));
    expect(lastScore(outs)).toMatchObject({ news2: { total: 3, band: 'low-medium', partial: false }, manualWindowMs: 60 * MIN, manualWindows: { acvpu: 60 * MIN, o2: 60 * MIN } });
    // 61 min later (the device still streaming) the assessment is stale: the score is partial again.
    for (let t = 7 * S; t <= 61 * MIN + 7 * S; t += 30 * S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    expect(lastScore(outs)!.news2).toMatchObject({ partial: true, missing: ['o2', 'acvpu'] });
  });

  it('recording one parameter does not revive a stale assessment', () => {
    const e = engine();
    const outs: EngineOutput[] = [];
    for (let t = 0; t <= 5 * S; t += S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    outs.push(e.reading(manual(T0 + 6 * S, { acvpu: 'C', o2: false }), T0 + 6 * S)); // hourly from now on
    for (let t = 7 * S; t <= 90 * MIN; t += 30 * S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    expect(lastScore(outs)!.news2.missing).toEqual(['o2', 'acvpu']);
    // 90 min on, the nurse records a temperature only: ACVPU and O2 stay stale.
    outs.push(e.reading(manual(T0 + 90 * MIN + S, { temp: 37.1 }), T0 + 90 * MIN + S));
    expect(lastScore(outs)!.news2).toMatchObject({ partial: true, missing: ['o2', 'acvpu'] });
  });

  it('one artefact neither opens nor re-bands a NEWS2 alarm', () => {
    const e = engine();
    const outs: EngineOutput[] = [e.reading(manual(T0, { acvpu: 'A', o2: false }), T0)];
    for (let t = S; t <= 30 * S; t += S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    outs.push(e.reading(device(T0 + 31 * S, { ...NORMAL, rr: 40, spo2: 70, hr: 170 }), T0 + 31 * S));
    for (let t = 32 * S; t <= 40 * S; t += S) outs.push(e.reading(device(T0 + t, NORMAL), T0 + t));
    expect(outs.flatMap((o) => o.alarms).filter((a) => a.kind === 'news2')).toEqual([]);
    expect(lastScore(outs)!.news2.total).toBe(0);
  });

  it('SpO2 0 is a technical "no signal", not a score', () => {
    const { values, noSignal } = takeNoSignal({ ...NORMAL, spo2: 0 });
    expect(values.spo2).toBeUndefined();
    expect(noSignal).toEqual(['spo2']);
    expect(takeNoSignal({ ...NORMAL, hr: 0 })).toEqual({ values: { ...NORMAL, hr: 0 }, noSignal: [] });
    const e = engine();
    const out = e.reading(device(T0, values), T0, undefined, false, noSignal);
    expect(out.alarms).toEqual([expect.objectContaining({ key: 'sensor-off:d1:spo2', category: 'technical', priority: 'medium' })]);
    expect(out.scores[0]!.news2.parameters.spo2).toBeNull();
    // A real value ends it.
    const back = e.reading(device(T0 + S, NORMAL), T0 + S);
    expect(back.alarms).toEqual([expect.objectContaining({ key: 'sensor-off:d1:spo2', state: 'resolved' })]);
  });

  it('only a full set of seven resets the observations-due timer', () => {
    const e = engine();
    e.reading(device(T0, NORMAL), T0);
    const full = e.reading(manual(T0 + MIN, { ...NORMAL, acvpu: 'A', o2: false }), T0 + MIN);
    expect(full.scores[0]).toMatchObject({ lastFullSetAt: T0 + MIN, observations: { dueAt: T0 + MIN + 12 * 60 * MIN } });
    const partial = e.reading(manual(T0 + 2 * MIN, { temp: 37.2 }), T0 + 2 * MIN);
    expect(partial.scores.at(-1)?.lastFullSetAt ?? T0 + MIN).toBe(T0 + MIN);
  });
});
