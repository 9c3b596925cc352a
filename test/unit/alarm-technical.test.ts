// Technical alarms from device facts: each rule on both sides of its threshold.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TECHNICAL,
  FACTS_RETENTION_MS,
  emptyFacts,
  noteBattery,
  noteImplausible,
  noteReading,
  seqMissing,
  technicalConditions,
  type DeviceFacts,
} from '../../server/pipeline/alarms/technical.ts';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;

/** A device that is sending everything normally, as of NOW. */
function healthy(over: Partial<DeviceFacts> = {}): DeviceFacts {
  return {
    ...emptyFacts('dev-1'),
    status: 'online',
    lastSeenAt: NOW - 5 * SEC,
    lastValueAt: { hr: NOW - 5 * SEC, spo2: NOW - 5 * SEC },
    battery: { value: 80, at: NOW - MIN },
    skewMs: [120, 80, 150],
    ...over,
  };
}

const kinds = (f: DeviceFacts, now = NOW) => technicalConditions([f], now).map((c) => c.kind);
const only = (f: DeviceFacts, now = NOW) => {
  const cs = technicalConditions([f], now);
  expect(cs).toHaveLength(1);
  return cs[0]!;
};

describe('DEFAULT_TECHNICAL', () => {
  it('holds the agreed thresholds', () => {
    expect(DEFAULT_TECHNICAL).toEqual({
      expectedIntervalMs: 30_000,
      sensorOffMs: 30_000,
      sensorRecentMs: 300_000,
      intermittent: ['sbp', 'dbp', 'temp'],
      artifactCount: 3,
      artifactWindowMs: 60_000,
      seqGapWindowMs: 60_000,
      batteryLow: 20,
      batteryCritical: 10,
      skewMs: 30_000,
    });
  });
});

describe('technicalConditions', () => {
  it('a healthy device raises nothing', () => {
    expect(technicalConditions([healthy()], NOW)).toEqual([]);
  });

  it('a device never seen, status unknown, raises nothing', () => {
    expect(technicalConditions([emptyFacts('dev-9')], NOW)).toEqual([]);
  });

  describe('device-offline', () => {
    it('silence just within the expected interval is fine; beyond it is offline', () => {
      expect(kinds(healthy({ lastSeenAt: NOW - 30 * SEC, lastValueAt: {} }))).toEqual([]);
      const c = only(healthy({ lastSeenAt: NOW - 45 * SEC, lastValueAt: {} }));
      expect(c).toEqual({
        key: 'device-offline:dev-1',
        kind: 'device-offline',
        category: 'technical',
        priority: 'medium',
        parameter: null,
        value: 45,
        limit: 30,
        rule: 'no data from device > 30 s',
        message: 'No signal from dev-1 for 45 s',
        delayMs: 0,
        deviceId: 'dev-1',
      });
    });

    it('status offline is offline even with recent data', () => {
      const c = only(healthy({ status: 'offline' }));
      expect(c).toMatchObject({ key: 'device-offline:dev-1', kind: 'device-offline', message: 'Device dev-1 offline' });
    });

    it('status offline for a device never seen still alarms', () => {
      expect(only({ ...emptyFacts('dev-2'), status: 'offline' }).message).toBe('Device dev-2 offline');
    });

    it('formats long silences in minutes', () => {
      expect(only(healthy({ lastSeenAt: NOW - 7 * MIN, lastValueAt: {} })).message).toBe('No signal from dev-1 for 7 min');
    });
  });

  describe('sensor-off', () => {
    it('a parameter missing 30 s is fine; 40 s is a sensor off', () => {
      expect(kinds(healthy({ lastValueAt: { hr: NOW - 5 * SEC, spo2: NOW - 30 * SEC } }))).toEqual([]);
      const c = only(healthy({ lastValueAt: { hr: NOW - 5 * SEC, spo2: NOW - 40 * SEC } }));
      expect(c).toEqual({
        key: 'sensor-off:dev-1:spo2',
        kind: 'sensor-off',
        category: 'technical',
        priority: 'medium',
        parameter: 'spo2',
        value: 40,
        limit: 30,
        rule: 'spo2 missing > 30 s while the device sends',
        message: 'SpO2 sensor off? no spo2 from dev-1 for 40 s',
        delayMs: 0,
        deviceId: 'dev-1',
      });
    });

    it('a parameter not sent within sensorRecentMs is not "being sent" any more', () => {
      expect(kinds(healthy({ lastValueAt: { hr: NOW - 5 * SEC, rr: NOW - 5 * MIN } }))).toEqual(['sensor-off']);
      expect(kinds(healthy({ lastValueAt: { hr: NOW - 5 * SEC, rr: NOW - 5 * MIN - 1 } }))).toEqual([]);
    });

    it('not while the device itself is offline (the offline alarm covers it)', () => {
      const silent = healthy({ lastSeenAt: NOW - 40 * SEC, lastValueAt: { hr: NOW - 40 * SEC, spo2: NOW - 90 * SEC } });
      expect(kinds(silent)).toEqual(['device-offline']);
      expect(kinds(healthy({ status: 'offline', lastValueAt: { hr: NOW - 5 * SEC, spo2: NOW - 90 * SEC } }))).toEqual(['device-offline']);
    });

    it('one condition per missing parameter', () => {
      const f = healthy({ lastValueAt: { hr: NOW - 5 * SEC, spo2: NOW - 2 * MIN, rr: NOW - 2 * MIN } });
      expect(technicalConditions([f], NOW).map((c) => c.key)).toEqual(['sensor-off:dev-1:spo2', 'sensor-off:dev-1:rr']);
    });

    it('never for intermittent parameters (cuff BP, temperature measured on demand)', () => {
      const f = healthy({ lastValueAt: { hr: NOW - 5 * SEC, sbp: NOW - 2 * MIN, dbp: NOW - 2 * MIN, temp: NOW - 3 * MIN } });
      expect(technicalConditions([f], NOW)).toEqual([]);
    });
  });

  describe('artifact', () => {
    it('2 implausible values in 60 s are fine; 3 are artifact', () => {
      expect(kinds(healthy({ implausibleAt: [NOW - 10 * SEC, NOW - 20 * SEC, NOW - 61 * SEC] }))).toEqual([]);
      const c = only(healthy({ implausibleAt: [NOW - 10 * SEC, NOW - 20 * SEC, NOW - 60 * SEC] }));
      expect(c).toMatchObject({ key: 'artifact:dev-1', kind: 'artifact', priority: 'low', value: 3, limit: 3, deviceId: 'dev-1' });
      expect(c.message).toBe('Signal artifact: 3 implausible values in 60 s');
      expect(only(healthy({ implausibleAt: [1, 2, 3, 4].map((i) => NOW - i * SEC) })).message).toBe(
        'Signal artifact: 4 implausible values in 60 s',
      );
    });
  });

  describe('seq-gap', () => {
    it('a gap older than 60 s is fine; a recent one alarms, summing what is missing', () => {
      expect(kinds(healthy({ seqGaps: [{ at: NOW - 61 * SEC, missing: 5 }] }))).toEqual([]);
      const c = only(healthy({ seqGaps: [{ at: NOW - 61 * SEC, missing: 9 }, { at: NOW - 30 * SEC, missing: 2 }, { at: NOW - 5 * SEC, missing: 3 }] }));
      expect(c).toMatchObject({ key: 'seq-gap:dev-1', kind: 'seq-gap', priority: 'low', value: 5, deviceId: 'dev-1' });
      expect(c.message).toBe('Lost readings: 5 missing (seq gap) from dev-1');
    });
  });

  describe('battery', () => {
    it('20% is fine, 19% is low (low priority), 9% is critical (medium)', () => {
      expect(kinds(healthy({ battery: { value: 20, at: NOW - MIN } }))).toEqual([]);
      const low = only(healthy({ battery: { value: 19, at: NOW - MIN } }));
      expect(low).toMatchObject({ key: 'battery:dev-1', kind: 'battery', priority: 'low', value: 19, limit: 20 });
      expect(low.message).toBe('Battery low: 19% on dev-1');
      expect(only(healthy({ battery: { value: 10, at: NOW - MIN } })).priority).toBe('low');
      const critical = only(healthy({ battery: { value: 9, at: NOW - MIN } }));
      expect(critical).toMatchObject({ key: 'battery:dev-1', priority: 'medium', value: 9, limit: 10 });
      expect(critical.message).toBe('Battery critical: 9% on dev-1');
    });

    it('a report older than 10 min is ignored', () => {
      expect(kinds(healthy({ battery: { value: 5, at: NOW - 10 * MIN } }))).toEqual(['battery']);
      expect(kinds(healthy({ battery: { value: 5, at: NOW - 10 * MIN - 1 } }))).toEqual([]);
    });
  });

  describe('clock-skew', () => {
    it('a median of 30 s is fine; 42 s is skew, either sign; the median ignores one outlier', () => {
      expect(kinds(healthy({ skewMs: [29_000, 30_000, 31_000] }))).toEqual([]);
      expect(kinds(healthy({ skewMs: [29_000, 30_001, 31_000] }))).toEqual(['clock-skew']);
      const c = only(healthy({ skewMs: [41_000, 42_000, 43_000] }));
      expect(c).toMatchObject({ key: 'clock-skew:dev-1', kind: 'clock-skew', priority: 'low', value: 42, limit: 30 });
      expect(c.message).toBe('Device clock off by 42 s');
      expect(only(healthy({ skewMs: [-42_000, -42_000] })).message).toBe('Device clock off by 42 s');
      expect(kinds(healthy({ skewMs: [100, 200, 900_000] }))).toEqual([]);
      expect(kinds(healthy({ skewMs: [] }))).toEqual([]);
    });
  });

  it('keys carry the device id, so two devices alarm separately', () => {
    const a = healthy({ deviceId: 'a', status: 'offline' });
    const b = healthy({ deviceId: 'b', status: 'offline' });
    expect(technicalConditions([a, b], NOW).map((c) => c.key)).toEqual(['device-offline:a', 'device-offline:b']);
  });

  it('takes a custom config', () => {
    const f = healthy({ lastSeenAt: NOW - 45 * SEC, lastValueAt: {} });
    expect(technicalConditions([f], NOW, { ...DEFAULT_TECHNICAL, expectedIntervalMs: 60_000 })).toEqual([]);
  });
});

describe('noteReading', () => {
  it('records receipt time per numeric vital, last seen and skew; leaves status alone', () => {
    const f0 = emptyFacts('dev-1');
    const f1 = noteReading(f0, { ts: NOW - 2 * SEC, receivedAt: NOW, values: { hr: 72, spo2: 97, o2: false, acvpu: 'A', seq: 4 }, seq: 4 }, null);
    expect(f1).toEqual({
      ...f0,
      lastSeenAt: NOW,
      lastValueAt: { hr: NOW, spo2: NOW },
      skewMs: [2000],
    });
    expect(f0).toEqual(emptyFacts('dev-1'));
  });

  it('records a forward seq jump as a gap, not a reboot or a resend', () => {
    let f = emptyFacts('dev-1');
    f = noteReading(f, { ts: NOW, receivedAt: NOW, values: { hr: 70 }, seq: 10 }, 4);
    expect(f.seqGaps).toEqual([{ at: NOW, missing: 5 }]);
    f = noteReading(f, { ts: NOW + 1, receivedAt: NOW + 1, values: { hr: 70 }, seq: 11 }, 10);
    f = noteReading(f, { ts: NOW + 2, receivedAt: NOW + 2, values: { hr: 70 }, seq: 0 }, 11);
    f = noteReading(f, { ts: NOW + 3, receivedAt: NOW + 3, values: { hr: 70 }, seq: 11 }, 11);
    f = noteReading(f, { ts: NOW + 4, receivedAt: NOW + 4, values: { hr: 70 } }, 11);
    expect(f.seqGaps).toHaveLength(1);
  });

  it('counts the seq numbers skipped, nothing for a first reading, a reboot, a resend or no seq', () => {
    expect(seqMissing(4, 10)).toBe(5);
    expect(seqMissing(4, 5)).toBe(0);
    expect(seqMissing(null, 10)).toBe(0);
    expect(seqMissing(11, 0)).toBe(0);
    expect(seqMissing(11, 11)).toBe(0);
    expect(seqMissing(11, undefined)).toBe(0);
  });

  it('keeps the last 20 skew samples and drops events older than 10 min', () => {
    let f = noteImplausible(emptyFacts('dev-1'), NOW - 11 * MIN);
    f = noteImplausible(f, NOW - 9 * MIN);
    f = { ...f, seqGaps: [{ at: NOW - 11 * MIN, missing: 1 }, { at: NOW - MIN, missing: 2 }] };
    for (let i = 0; i < 30; i++) f = noteReading(f, { ts: NOW - i, receivedAt: NOW, values: { hr: 70 } }, null);
    expect(f.skewMs).toEqual(Array.from({ length: 20 }, (_, k) => k + 10));
    expect(f.implausibleAt).toEqual([NOW - 9 * MIN]);
    expect(f.seqGaps).toEqual([{ at: NOW - MIN, missing: 2 }]);
    expect(FACTS_RETENTION_MS).toBe(10 * MIN);
  });

  it('does not move lastSeenAt backwards for a late reading', () => {
    const f = noteReading(healthy(), { ts: NOW - 60 * SEC, receivedAt: NOW - 60 * SEC, values: { hr: 70 } }, null);
    expect(f.lastSeenAt).toBe(NOW - 5 * SEC);
    expect(f.lastValueAt.hr).toBe(NOW - 5 * SEC);
  });

  it('never mutates its input', () => {
    const f = Object.freeze(healthy({ implausibleAt: Object.freeze([NOW]) as number[], seqGaps: Object.freeze([]) as never[] }));
    Object.freeze(f.lastValueAt);
    Object.freeze(f.skewMs);
    expect(() => noteReading(f, { ts: NOW, receivedAt: NOW, values: { hr: 70, rr: 15 }, seq: 9 }, 2)).not.toThrow();
    expect(() => noteImplausible(f, NOW)).not.toThrow();
    expect(() => noteBattery(f, 50, NOW)).not.toThrow();
  });
});

describe('noteBattery', () => {
  it('keeps the newest report', () => {
    const f = noteBattery(emptyFacts('dev-1'), 50, NOW);
    expect(f.battery).toEqual({ value: 50, at: NOW });
    expect(noteBattery(f, 80, NOW - MIN)).toBe(f);
    expect(noteBattery(f, 15, NOW + MIN).battery).toEqual({ value: 15, at: NOW + MIN });
  });
});
