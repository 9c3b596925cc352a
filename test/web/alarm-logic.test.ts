// Alarm presentation and operator actions: pure rules the tile, the alarm list and the patient
// panel share. The legal transitions mirror server/pipeline/alarms/lifecycle.ts (applyAction).
import { describe, expect, it } from 'vitest';
import {
  CLEARED_TEXT,
  canAct,
  escalationText,
  flashes,
  formatCountdown,
  formatObsDue,
  isLatchedCleared,
  legalActions,
  silenceRemaining,
  stateText,
  topAlarm,
} from '../../web/src/logic/alarms.ts';
import type { AlertEvent } from '../../server/domain/events.ts';

type State = AlertEvent['state'];
const NOW = 1_800_000_000_000;

describe('flashing (IEC 60601-1-8: only while nobody has responded)', () => {
  it.each<[AlertEvent['priority'], State, boolean]>([
    ['high', 'active', true],
    ['medium', 'active', true],
    ['low', 'active', false], // low priority is steady anyway
    ['high', 'acknowledged', false],
    ['high', 'silenced', false],
    ['medium', 'silenced', false],
    ['high', 'resolved', false],
  ])('%s %s → %s', (priority, state, expected) => {
    expect(flashes({ priority, state })).toBe(expected);
  });
});

describe('latched and cleared', () => {
  it('says "cleared — acknowledge to dismiss" only for a latched alarm whose condition has gone', () => {
    expect(CLEARED_TEXT).toBe('cleared — acknowledge to dismiss');
    expect(isLatchedCleared({ latching: true, conditionActive: false, state: 'active' })).toBe(true);
    expect(isLatchedCleared({ latching: true, conditionActive: false, state: 'silenced' })).toBe(true);
    expect(isLatchedCleared({ latching: true, conditionActive: true, state: 'active' })).toBe(false);
    expect(isLatchedCleared({ latching: false, conditionActive: false, state: 'active' })).toBe(false);
    expect(isLatchedCleared({ latching: true, conditionActive: false, state: 'resolved' })).toBe(false);
  });
});

describe('silence countdown', () => {
  it('counts the silence down, 0 when not silenced or expired', () => {
    expect(silenceRemaining({ state: 'silenced', silencedUntil: NOW + 102_000 }, NOW)).toBe(102_000);
    expect(silenceRemaining({ state: 'silenced', silencedUntil: NOW - 5 }, NOW)).toBe(0);
    expect(silenceRemaining({ state: 'silenced', silencedUntil: null }, NOW)).toBe(0);
    expect(silenceRemaining({ state: 'active', silencedUntil: NOW + 60_000 }, NOW)).toBe(0);
  });

  it.each([
    [119_000, '1:59'],
    [120_000, '2:00'],
    [119_001, '2:00'], // rounded up: 0:00 only once it is over
    [102_000, '1:42'],
    [5_000, '0:05'],
    [1, '0:01'],
    [0, '0:00'],
    [-3_000, '0:00'],
    [3_723_000, '1:02:03'],
  ])('formatCountdown(%i) = %s', (ms, text) => {
    expect(formatCountdown(ms)).toBe(text);
  });

  it('states the state, with the countdown when silenced', () => {
    expect(stateText({ state: 'silenced', silencedUntil: NOW + 102_000 }, NOW)).toBe('silenced 1:42');
    expect(stateText({ state: 'acknowledged', silencedUntil: null }, NOW)).toBe('acknowledged');
    expect(stateText({ state: 'active', silencedUntil: null }, NOW)).toBe('active');
  });
});

describe('who may act, and what', () => {
  it('lets doctors and nurses act, nobody else (server permission alarms:act)', () => {
    expect(['doctor', 'nurse', 'admin', 'kiosk', 'front-desk', null, undefined].map(canAct)).toEqual([true, true, false, false, false, false, false]);
  });

  it.each<[State, boolean, string[]]>([
    ['active', true, ['ack', 'silence']],
    ['active', false, ['ack', 'silence', 'resolve']], // latched, condition cleared
    ['acknowledged', true, ['silence']],
    ['silenced', true, ['ack']],
    ['silenced', false, ['ack', 'resolve']],
    ['resolved', false, []],
  ])('%s (condition active: %s) → %j', (state, conditionActive, actions) => {
    expect(legalActions({ state, conditionActive })).toEqual(actions);
  });
});

describe('escalation', () => {
  it('names the role and level once escalated, nothing before', () => {
    expect(escalationText(0, 'nurse')).toBe('');
    expect(escalationText(1, 'doctor')).toBe('→ doctor, level 1');
    expect(escalationText(2, null)).toBe('escalated, level 2');
  });
});

describe('topAlarm', () => {
  const a = (priority: AlertEvent['priority'], ts: number, state: State = 'active') => ({ priority, ts, state });
  it('takes the highest priority, an unanswered one before an answered one, then the newest', () => {
    expect(topAlarm([a('low', 9), a('high', 1), a('medium', 5)])).toEqual(a('high', 1));
    expect(topAlarm([a('high', 9, 'acknowledged'), a('high', 1)])).toEqual(a('high', 1));
    expect(topAlarm([a('high', 9, 'silenced'), a('high', 5, 'acknowledged')])).toEqual(a('high', 9, 'silenced'));
    expect(topAlarm([a('medium', 1), a('high', 2, 'acknowledged')])).toEqual(a('high', 2, 'acknowledged'));
    expect(topAlarm([a('high', 1, 'resolved')])).toBeNull();
    expect(topAlarm([])).toBeNull();
  });
});

describe('formatObsDue (RCP NEWS2 chart 4 schedule, from the server)', () => {
  const H = 3600_000;
  it.each<[number | null, number | 'continuous', string | null, boolean]>([
    [NOW + 42 * 60_000, H, 'obs due 42m', false],
    [NOW + 41 * 60_000 + 1, H, 'obs due 42m', false], // rounded up
    [NOW + 3 * H + 5 * 60_000, 4 * H, 'obs due 3h 5m', false],
    [NOW + 12 * H, 12 * H, 'obs due 12h', false],
    [NOW, H, 'obs due now', true],
    [NOW - 30_000, H, 'obs due now', true],
    [NOW - 5 * 60_000 - 59_000, H, 'obs overdue 5m', true], // rounded down
    [NOW - 90 * 60_000, H, 'obs overdue 1h 30m', true],
    [null, 'continuous', null, false],
  ])('due %s every %s → %s', (dueAt, interval, text, overdue) => {
    const r = formatObsDue({ dueAt, interval }, NOW);
    expect(r?.text ?? null).toBe(text);
    if (r) expect(r.overdue).toBe(overdue);
  });

  it('says nothing without a schedule', () => {
    expect(formatObsDue(undefined, NOW)).toBeNull();
    expect(formatObsDue(null, NOW)).toBeNull();
    expect(formatObsDue({ dueAt: null, interval: 3600_000 }, NOW)).toBeNull();
  });
});
