// @vitest-environment happy-dom
// The live store's alarm and score updates: an older version never replaces a newer one (our own
// command's answer and the room's push carry the same change), escalations keep their role, and a
// score without an observations schedule keeps the last one.
import { describe, expect, it } from 'vitest';
import { LiveStore } from '../../web/src/store.ts';
import type { AlertEvent, ScoreEvent, SubscribeResult } from '../../server/domain/events.ts';

const P = '00000000-0000-4000-8000-000000000001';
const T = 1_800_000_000_000;

function alarm(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: 'a1', patientId: P, key: 'news2:total', kind: 'news2', category: 'physiological', priority: 'high', parameter: null, value: 7, limit: 7,
    rule: 'NEWS2 ≥ 7', message: 'NEWS2 7', state: 'active', ts: T, endedAt: null, updatedAt: T, conditionActive: true, latching: true,
    silencedUntil: null, acknowledgedBy: null, acknowledgedAt: null, acknowledgedValue: null, escalationLevel: 0, deviceId: null, ...over,
  };
}

const score = (ts: number, observations?: ScoreEvent['observations']): ScoreEvent => ({
  patientId: P,
  ts,
  news2: { total: 3, band: 'low-medium', partial: false, missing: [], parameters: { rr: 3, spo2: 0, o2: 0, sbp: 0, hr: 0, acvpu: 0, temp: 0 } },
  ...(observations ? { observations } : {}),
});

function storeWithPatient(): LiveStore {
  const s = new LiveStore();
  const snapshot: SubscribeResult = { room: 'ward:A', patients: [{ patientId: P, name: 'Ada', ward: 'A', bed: '7', values: {}, score: null, alerts: [], devices: [] }] };
  s.applySnapshot(snapshot);
  return s;
}

describe('LiveStore alarms', () => {
  it('applies changes in order and ignores an older version arriving late', () => {
    const s = storeWithPatient();
    s.applyAlert(alarm());
    s.applyAlert(alarm({ state: 'acknowledged', updatedAt: T + 5 }));
    s.applyAlert(alarm({ state: 'active', updatedAt: T + 1 }));
    expect(s.patients.get(P)!.alerts.map((a) => a.state)).toEqual(['acknowledged']);
    s.applyAlert(alarm({ state: 'resolved', updatedAt: T + 9, endedAt: T + 9 }));
    expect(s.patients.get(P)!.alerts).toEqual([]);
  });

  it('keeps the escalation role and level, and the alarm update it carries', () => {
    const s = storeWithPatient();
    s.applyAlert(alarm());
    s.applyEscalation({ alarm: alarm({ escalationLevel: 1, updatedAt: T + 60_000 }), level: 1, role: 'doctor', at: T + 60_000 });
    expect(s.escalations.get('a1')).toEqual({ level: 1, role: 'doctor', at: T + 60_000 });
    expect(s.patients.get(P)!.alerts[0]!.escalationLevel).toBe(1);
    s.applyAlert(alarm({ state: 'resolved', updatedAt: T + 70_000 }));
    expect(s.escalations.has('a1')).toBe(false);
  });
});

describe('LiveStore scores', () => {
  it('keeps the observations schedule of the score, and the last one when a score comes without', () => {
    const s = storeWithPatient();
    s.applyScore(score(T, { dueAt: T + 3600_000, interval: 3600_000 }));
    expect(s.patients.get(P)!.score!.observations).toEqual({ dueAt: T + 3600_000, interval: 3600_000 });
    s.applyScore(score(T + 1000));
    expect(s.patients.get(P)!.score!.ts).toBe(T + 1000);
    expect(s.patients.get(P)!.score!.observations).toEqual({ dueAt: T + 3600_000, interval: 3600_000 });
    s.applyScore(score(T + 2000, { dueAt: null, interval: 'continuous' }));
    expect(s.patients.get(P)!.score!.observations).toEqual({ dueAt: null, interval: 'continuous' });
  });
});
