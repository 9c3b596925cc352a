// The start after an unclean shutdown (issue 14): the engine's own transitions are not waited for,
// so the database may hold alarms older or newer than what the dashboards last saw. `reconcile`
// re-derives every open alarm from its condition and the restored latest values, and the trail
// says so. Time is virtual.
import { describe, expect, it } from 'vitest';
import { AlarmEngine, DEFAULT_ENGINE, type MonitorSnapshot } from '../../server/pipeline/alarms/engine.ts';
import type { Alarm } from '../../server/domain/alarms.ts';
import type { Reading, VitalValues } from '../../server/domain/vitals.ts';
import { EMPTY_TREND_STATE } from '../../server/pipeline/alarms/trends.ts';

const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);
const MIN = 60_000;
const NOTE = 'reconciled after an unclean shutdown';
const LIMITS = { temp: { high: 37.5 }, sbp: { high: 180 } };

function stored(over: Partial<Alarm>): Alarm {
  return {
    id: 'db1',
    patientId: 'p1',
    key: 'limit:temp',
    kind: 'limit',
    category: 'physiological',
    priority: 'medium',
    parameter: 'temp',
    value: 38.2,
    limit: 37.5,
    rule: 'temp > 37.5',
    message: 'Temperature high 38.2 °C (limit 37.5)',
    state: 'acknowledged',
    ts: T0 - 30 * MIN,
    endedAt: null,
    updatedAt: T0 - 20 * MIN,
    conditionActive: true,
    latching: false,
    silencedUntil: null,
    acknowledgedBy: 'nurse-1',
    acknowledgedAt: T0 - 20 * MIN,
    acknowledgedValue: 38.2,
    escalationLevel: 0,
    nextEscalationAt: null,
    deviceId: null,
    ...over,
  };
}

/** An engine started at T0 from `alarms` (the database) and `pending` (the saved monitor state), with these latest values. */
function restart(alarms: Alarm[], values: VitalValues, pending: Record<string, number> = {}) {
  let n = 0;
  const snap: MonitorSnapshot = { v: 1, firstSeenAt: T0 - 60 * MIN, lastFullSetAt: null, manualWindows: {}, pending, trends: EMPTY_TREND_STATE, devices: [] };
  const e = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: LIMITS }), newId: () => `new${++n}` }, DEFAULT_ENGINE, alarms, new Map([['p1', snap]]), T0);
  const reading: Reading = { ts: T0 - MIN, receivedAt: T0 - MIN, values, deviceId: null, patientId: 'p1', source: 'manual' };
  e.restoreReadings('p1', [reading], T0);
  return e;
}

const trail = (ts: { alarmId: string; from: string | null; to: string; by: string | null; comment: string | null }[], id: string) =>
  ts.filter((t) => t.alarmId === id).map((t) => [t.from, t.to, t.by, t.comment]);

describe('reconciling the alarms at start', () => {
  it('resolves an open alarm whose condition has gone, saying why; the acknowledgement is kept', () => {
    const out = restart([stored({})], { temp: 37.0 }).reconcile(T0, NOTE);
    expect(trail(out.transitions, 'db1')).toEqual([['acknowledged', 'resolved', null, `condition cleared (${NOTE})`]]);
    expect(out.alarms.find((a) => a.id === 'db1')).toMatchObject({ state: 'resolved', acknowledgedBy: 'nurse-1', endedAt: T0 });
  });

  it('keeps an acknowledged alarm whose condition still holds as it is', () => {
    const e = restart([stored({})], { temp: 38.3 });
    const out = e.reconcile(T0, NOTE);
    expect(trail(out.transitions, 'db1')).toEqual([]);
    expect(e.findOpen('db1')).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'nurse-1', value: 38.3 });
  });

  it('re-alarms a worse condition than the stored one, however it was acknowledged', () => {
    const sbp = stored({ key: 'limit:sbp', parameter: 'sbp', value: 190, limit: 180, rule: 'sbp > 180', message: 'Systolic BP high 190 mmHg (limit 180)', acknowledgedValue: 190 });
    const e = restart([sbp], { sbp: 225 });
    const out = e.reconcile(T0, NOTE);
    expect(trail(out.transitions, 'db1')).toEqual([['acknowledged', 'active', null, `priority rose: medium → high (${NOTE})`]]);
    expect(e.findOpen('db1')).toMatchObject({ state: 'active', priority: 'high', acknowledgedBy: null });
  });

  it('raises an alarm the database lost (its delay, saved with the monitor state, has run out)', () => {
    const e = restart([], { temp: 38.4 }, { 'limit:temp': T0 - 5 * MIN });
    const out = e.reconcile(T0, NOTE);
    const raised = e.openAlarms('p1').find((a) => a.key === 'limit:temp')!;
    expect(raised).toMatchObject({ state: 'active', value: 38.4 });
    expect(trail(out.transitions, raised.id)).toEqual([[null, 'active', null, `condition met: temp > 37.5 (${NOTE})`]]);
  });

  it('holds an alarm whose parameter has no fresh value: absence of data is not recovery', () => {
    const e = restart([stored({ state: 'active', acknowledgedBy: null, acknowledgedAt: null, acknowledgedValue: null })], { sbp: 120 });
    expect(trail(e.reconcile(T0, NOTE).transitions, 'db1')).toEqual([]);
    expect(e.findOpen('db1')).toMatchObject({ state: 'active' });
  });

  it('after a clean shutdown the trail says what it always says', () => {
    const out = restart([stored({})], { temp: 37.0 }).reconcile(T0, null);
    expect(trail(out.transitions, 'db1')).toEqual([['acknowledged', 'resolved', null, 'condition cleared']]);
  });
});
