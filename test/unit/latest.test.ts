// Latest value per parameter, kept per source (device / manual), merged across devices, and its freshness.
import { describe, expect, it } from 'vitest';
import {
  EMPTY_LATEST,
  freshValues,
  isFresh,
  latestOf,
  mergeReading,
  stampedValues,
  addSample,
  freshUntil,
  windowMedian,
  type SampleWindow,
  type LatestValues,
} from '../../server/pipeline/latest.ts';
import { DEFAULT_FRESHNESS, type Freshness, type Reading, type ReadingSource, type VitalValues } from '../../server/domain/vitals.ts';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const F: Freshness = { deviceMs: 5 * MIN, intermittentMs: 5 * MIN, manualMs: 12 * HOUR };

function reading(ts: number, values: VitalValues, deviceId: string | null = 'mon-1', source: ReadingSource = 'device'): Reading {
  return { ts, values, deviceId, patientId: 'p1', source, receivedAt: ts + 50 };
}
const manual = (ts: number, values: VitalValues) => reading(ts, values, null, 'manual');

function mergeAll(readings: Reading[], start: LatestValues = EMPTY_LATEST): LatestValues {
  return readings.reduce(mergeReading, start);
}

describe('EMPTY_LATEST', () => {
  it('has an empty slot per source', () => {
    expect(EMPTY_LATEST).toEqual({ device: {}, manual: {} });
    expect(stampedValues(EMPTY_LATEST)).toEqual({});
    expect(freshValues(EMPTY_LATEST, T0, F)).toEqual({});
    expect(latestOf(EMPTY_LATEST, 'hr')).toBeUndefined();
  });
});

describe('mergeReading', () => {
  it('stamps each device value with its time, source and device, in the device slot', () => {
    const latest = mergeReading(EMPTY_LATEST, reading(T0, { hr: 72, spo2: 97 }));
    expect(latest).toEqual({
      device: {
        hr: { value: 72, ts: T0, at: T0, source: 'device', deviceId: 'mon-1' },
        spo2: { value: 97, ts: T0, at: T0, source: 'device', deviceId: 'mon-1' },
      },
      manual: {},
    });
  });

  it('puts a manual observation in the manual slot', () => {
    const latest = mergeReading(EMPTY_LATEST, manual(T0, { temp: 37.2, acvpu: 'A' }));
    expect(latest).toEqual({
      device: {},
      manual: {
        temp: { value: 37.2, ts: T0, at: T0, source: 'manual', deviceId: null },
        acvpu: { value: 'A', ts: T0, at: T0, source: 'manual', deviceId: null },
      },
    });
  });

  it('a newer reading replaces the older value', () => {
    const latest = mergeAll([reading(T0, { hr: 72 }), reading(T0 + 1000, { hr: 80 })]);
    expect(latest.device.hr).toMatchObject({ value: 80, ts: T0 + 1000 });
  });

  it('an out-of-order (older) reading does not overwrite a newer value', () => {
    const latest = mergeAll([reading(T0 + 1000, { hr: 80 }), reading(T0, { hr: 72 })]);
    expect(latest.device.hr).toMatchObject({ value: 80, ts: T0 + 1000 });
  });

  it('an out-of-order manual observation does not overwrite a newer manual one', () => {
    const latest = mergeAll([manual(T0 + 1000, { temp: 38.0 }), manual(T0, { temp: 37.0 })]);
    expect(latest.manual.temp).toMatchObject({ value: 38.0, ts: T0 + 1000 });
  });

  it('an older reading still fills parameters the newer ones did not carry', () => {
    const latest = mergeAll([reading(T0 + 1000, { hr: 80 }), reading(T0, { hr: 72, temp: 36.9 })]);
    expect(latest.device.hr).toMatchObject({ value: 80, ts: T0 + 1000 });
    expect(latest.device.temp).toMatchObject({ value: 36.9, ts: T0 });
  });

  it('decides per parameter, not per reading', () => {
    const latest = mergeAll([
      reading(T0, { hr: 70, spo2: 95 }),
      reading(T0 + 2000, { spo2: 98 }),
      reading(T0 + 1000, { hr: 75, spo2: 96 }), // late: hr is newer than T0, spo2 is older than T0+2000
    ]);
    expect(latest.device.hr).toMatchObject({ value: 75, ts: T0 + 1000 });
    expect(latest.device.spo2).toMatchObject({ value: 98, ts: T0 + 2000 });
  });

  it('an equal timestamp: the later arrival wins', () => {
    const latest = mergeAll([reading(T0, { hr: 72 }, 'mon-1'), reading(T0, { hr: 74 }, 'mon-2')]);
    expect(latest.device.hr).toMatchObject({ value: 74, deviceId: 'mon-2' });
  });

  it('keeps sources apart: an older manual value is kept next to a newer device value', () => {
    const latest = mergeAll([reading(T0 + 1000, { spo2: 97 }), manual(T0, { spo2: 94 })]);
    expect(latest.device.spo2).toMatchObject({ value: 97, ts: T0 + 1000, at: T0 + 1000, source: 'device' });
    expect(latest.manual.spo2).toMatchObject({ value: 94, ts: T0, at: T0, source: 'manual' });
    // ... and a newer manual value does not wipe the device one either.
    const later = mergeReading(latest, manual(T0 + 2000, { spo2: 92 }));
    expect(later.device.spo2).toMatchObject({ value: 97, ts: T0 + 1000 });
    expect(later.manual.spo2).toMatchObject({ value: 92, ts: T0 + 2000 });
  });

  it('merges values from several devices and manual observations', () => {
    const latest = mergeAll([
      reading(T0, { hr: 72, spo2: 97 }, 'oximeter'),
      reading(T0 + 1000, { sbp: 120, dbp: 80 }, 'nibp'),
      reading(T0 + 2000, { rr: 16 }, 'capno'),
      manual(T0 + 3000, { temp: 37.2, acvpu: 'A', o2: false }),
    ]);
    expect(freshValues(latest, T0 + 3000, F)).toEqual({ hr: 72, spo2: 97, sbp: 120, dbp: 80, rr: 16, temp: 37.2, acvpu: 'A', o2: false });
    expect(latest.device.hr?.deviceId).toBe('oximeter');
    expect(latest.device.sbp?.deviceId).toBe('nibp');
    expect(latest.device.rr?.deviceId).toBe('capno');
    expect(latest.manual.temp).toMatchObject({ source: 'manual', deviceId: null });
    expect(Object.keys(latest.device).sort()).toEqual(['dbp', 'hr', 'rr', 'sbp', 'spo2']);
    expect(Object.keys(latest.manual).sort()).toEqual(['acvpu', 'o2', 'temp']);
  });

  it('keeps falsy values (o2 false, hr 0), from either source', () => {
    const fromDevice = mergeReading(EMPTY_LATEST, reading(T0, { o2: false, hr: 0 }));
    expect(fromDevice.device.o2?.value).toBe(false);
    expect(fromDevice.device.hr?.value).toBe(0);
    const fromManual = mergeReading(EMPTY_LATEST, manual(T0, { o2: false, spo2: 0 }));
    expect(fromManual.manual.o2?.value).toBe(false);
    expect(fromManual.manual.spo2?.value).toBe(0);
  });

  it('a falsy newer value replaces a truthy older one', () => {
    const latest = mergeAll([manual(T0, { o2: true }), manual(T0 + 1000, { o2: false })]);
    expect(latest.manual.o2).toMatchObject({ value: false, ts: T0 + 1000 });
  });

  it('is pure: never mutates the previous state, nor EMPTY_LATEST', () => {
    const before = mergeReading(EMPTY_LATEST, reading(T0, { hr: 72 }));
    expect(EMPTY_LATEST).toEqual({ device: {}, manual: {} });
    const snapshot = structuredClone(before);
    const after = mergeReading(before, reading(T0 + 1000, { hr: 80, spo2: 97 }));
    const after2 = mergeReading(after, manual(T0 + 2000, { temp: 37.0 }));
    expect(before).toEqual(snapshot);
    expect(after).not.toBe(before);
    expect(after.manual).toEqual({});
    expect(after2).not.toBe(after);
    expect(after.device).toEqual({
      hr: { value: 80, ts: T0 + 1000, at: T0 + 1000, source: 'device', deviceId: 'mon-1' },
      spo2: { value: 97, ts: T0 + 1000, at: T0 + 1000, source: 'device', deviceId: 'mon-1' },
    });
    expect(EMPTY_LATEST).toEqual({ device: {}, manual: {} });
  });

  it('returns the same object when nothing changes (cheap change detection)', () => {
    const before = mergeAll([reading(T0 + 1000, { hr: 72 }), manual(T0 + 1000, { temp: 37 })]);
    expect(mergeReading(before, reading(T0, { hr: 60 }))).toBe(before);
    expect(mergeReading(before, manual(T0, { temp: 36 }))).toBe(before);
    expect(mergeReading(before, reading(T0 + 2000, {}))).toBe(before);
    expect(mergeReading(before, manual(T0 + 2000, {}))).toBe(before);
  });
});

describe('isFresh', () => {
  it('defaults: 30 s for streamed device values, 30 min for intermittent ones, 12 hours for manual observations', () => {
    expect(DEFAULT_FRESHNESS).toEqual({ deviceMs: 30_000, intermittentMs: 30 * MIN, manualMs: 12 * HOUR });
  });

  it.each<[string, ReadingSource, number, boolean]>([
    ['device, just now', 'device', 0, true],
    ['device, 1 ms before the window ends', 'device', 5 * MIN - 1, true],
    ['device, exactly at the window', 'device', 5 * MIN, true],
    ['device, 1 ms past the window', 'device', 5 * MIN + 1, false],
    ['manual, just now', 'manual', 0, true],
    ['manual, 5 min + 1 ms (past the device window)', 'manual', 5 * MIN + 1, true],
    ['manual, 1 ms before the window ends', 'manual', 12 * HOUR - 1, true],
    ['manual, exactly at the window', 'manual', 12 * HOUR, true],
    ['manual, 1 ms past the window', 'manual', 12 * HOUR + 1, false],
  ])('%s → fresh %s', (_name, source, age, fresh) => {
    expect(isFresh({ value: 1, ts: T0, at: T0, source, deviceId: null }, 'hr', T0 + age, F)).toBe(fresh);
  });

  it('honours a custom freshness per source', () => {
    const strict: Freshness = { deviceMs: 1000, intermittentMs: 1500, manualMs: 2000 };
    const dev = { value: 1, ts: T0, at: T0, source: 'device' as const, deviceId: 'mon-1' };
    const man = { value: 1, ts: T0, at: T0, source: 'manual' as const, deviceId: null };
    expect(isFresh(dev, 'hr', T0 + 1000, strict)).toBe(true);
    expect(isFresh(dev, 'hr', T0 + 1001, strict)).toBe(false);
    expect(isFresh(dev, 'sbp', T0 + 1500, strict)).toBe(true);
    expect(isFresh(dev, 'sbp', T0 + 1501, strict)).toBe(false);
    expect(isFresh(man, 'hr', T0 + 2000, strict)).toBe(true);
    expect(isFresh(man, 'hr', T0 + 2001, strict)).toBe(false);
  });
});

describe('latestOf', () => {
  it('undefined for a parameter never seen', () => {
    const latest = mergeReading(EMPTY_LATEST, reading(T0, { hr: 72 }));
    expect(latestOf(latest, 'spo2')).toBeUndefined();
    expect(latestOf(latest, 'spo2', { now: T0, freshness: F })).toBeUndefined();
  });

  it('without a freshness filter: the newest value across sources, however old', () => {
    const deviceNewer = mergeAll([manual(T0, { spo2: 94 }), reading(T0 + MIN, { spo2: 97 })]);
    expect(latestOf(deviceNewer, 'spo2')).toEqual({ value: 97, ts: T0 + MIN, at: T0 + MIN, source: 'device', deviceId: 'mon-1' });
    const manualNewer = mergeAll([reading(T0, { spo2: 97 }), manual(T0 + MIN, { spo2: 94 })]);
    expect(latestOf(manualNewer, 'spo2')).toEqual({ value: 94, ts: T0 + MIN, at: T0 + MIN, source: 'manual', deviceId: null });
  });

  it('when both are fresh, the newer one wins (either way round)', () => {
    const fresh = { now: T0 + 2 * MIN, freshness: F };
    const deviceNewer = mergeAll([manual(T0, { spo2: 94 }), reading(T0 + MIN, { spo2: 97 })]);
    expect(latestOf(deviceNewer, 'spo2', fresh)).toMatchObject({ value: 97, source: 'device' });
    const manualNewer = mergeAll([reading(T0, { spo2: 97 }), manual(T0 + MIN, { spo2: 94 })]);
    expect(latestOf(manualNewer, 'spo2', fresh)).toMatchObject({ value: 94, source: 'manual' });
  });

  it('a manual observation stays usable for 12 h after a newer device value went stale at 5 min', () => {
    const tDev = T0 + HOUR;
    const latest = mergeAll([manual(T0, { spo2: 94 }), reading(tDev, { spo2: 97 })]);
    const at = (now: number) => latestOf(latest, 'spo2', { now, freshness: F });
    // Device value fresh (up to and including 5 min): it is newer, so it wins.
    expect(at(tDev)).toMatchObject({ value: 97, source: 'device', ts: tDev });
    expect(at(tDev + 5 * MIN)).toMatchObject({ value: 97, source: 'device' });
    // 1 ms later the device value is stale: fall back to the older, still fresh manual one.
    expect(at(tDev + 5 * MIN + 1)).toMatchObject({ value: 94, source: 'manual', ts: T0 });
    expect(at(T0 + 12 * HOUR)).toMatchObject({ value: 94, source: 'manual' });
    // 12 h + 1 ms after the manual observation: nothing fresh left.
    expect(at(T0 + 12 * HOUR + 1)).toBeUndefined();
    // Unfiltered, the device value is still the newest.
    expect(latestOf(latest, 'spo2')).toMatchObject({ value: 97, source: 'device' });
  });

  it('a stale manual value never beats a fresh device value, even if the manual one is newer', () => {
    const strict: Freshness = { deviceMs: 10 * MIN, intermittentMs: 10 * MIN, manualMs: MIN };
    const latest = mergeAll([reading(T0, { hr: 72 }), manual(T0 + MIN, { hr: 90 })]);
    expect(latestOf(latest, 'hr', { now: T0 + 2 * MIN, freshness: strict })).toMatchObject({ value: 90, source: 'manual' });
    expect(latestOf(latest, 'hr', { now: T0 + 2 * MIN + 1, freshness: strict })).toMatchObject({ value: 72, source: 'device' });
  });
});

describe('freshValues', () => {
  it('keeps only fresh values, each by its own source window', () => {
    const latest = mergeAll([
      reading(T0, { hr: 72, spo2: 97 }),
      reading(T0 + 4 * MIN, { rr: 18 }),
      manual(T0, { temp: 37.0, acvpu: 'A', sbp: 125 }),
    ]);
    // 6 minutes on: the device hr/spo2 (6 min) are stale, rr (2 min) is fresh, manual values fresh.
    expect(freshValues(latest, T0 + 6 * MIN, F)).toEqual({ rr: 18, temp: 37.0, acvpu: 'A', sbp: 125 });
    // 13 hours on: nothing left.
    expect(freshValues(latest, T0 + 13 * HOUR, F)).toEqual({});
    // At T0 + 4 min everything is fresh.
    expect(freshValues(latest, T0 + 4 * MIN, F)).toEqual({ hr: 72, spo2: 97, rr: 18, temp: 37.0, acvpu: 'A', sbp: 125 });
  });

  it('device window edge: fresh at 5 min, gone 1 ms later', () => {
    const latest = mergeReading(EMPTY_LATEST, reading(T0, { hr: 72 }));
    expect(freshValues(latest, T0 + 5 * MIN, F)).toEqual({ hr: 72 });
    expect(freshValues(latest, T0 + 5 * MIN + 1, F)).toEqual({});
  });

  it('manual window edge: fresh at 12 h, gone 1 ms later', () => {
    const latest = mergeReading(EMPTY_LATEST, manual(T0, { temp: 37.5 }));
    expect(freshValues(latest, T0 + 12 * HOUR, F)).toEqual({ temp: 37.5 });
    expect(freshValues(latest, T0 + 12 * HOUR + 1, F)).toEqual({});
  });

  it('a manually entered value of a device parameter uses the manual window', () => {
    const latest = mergeAll([reading(T0, { spo2: 97 }), manual(T0 + MIN, { spo2: 94 })]);
    expect(freshValues(latest, T0 + 2 * HOUR, F)).toEqual({ spo2: 94 });
  });

  it('falls back to an older manual value once the newer device value is stale', () => {
    const latest = mergeAll([manual(T0, { spo2: 94, temp: 37.0 }), reading(T0 + HOUR, { spo2: 97, hr: 80 })]);
    expect(freshValues(latest, T0 + HOUR + 5 * MIN, F)).toEqual({ spo2: 97, hr: 80, temp: 37.0 });
    expect(freshValues(latest, T0 + HOUR + 5 * MIN + 1, F)).toEqual({ spo2: 94, temp: 37.0 });
    expect(freshValues(latest, T0 + 12 * HOUR, F)).toEqual({ spo2: 94, temp: 37.0 });
    expect(freshValues(latest, T0 + 12 * HOUR + 1, F)).toEqual({});
  });

  it('when both sources are fresh, the newer value wins', () => {
    const deviceNewer = mergeAll([manual(T0, { spo2: 94 }), reading(T0 + MIN, { spo2: 97 })]);
    expect(freshValues(deviceNewer, T0 + 2 * MIN, F)).toEqual({ spo2: 97 });
    const manualNewer = mergeAll([reading(T0, { spo2: 97 }), manual(T0 + MIN, { spo2: 94 })]);
    expect(freshValues(manualNewer, T0 + 2 * MIN, F)).toEqual({ spo2: 94 });
  });

  it('keeps falsy fresh values', () => {
    const latest = mergeAll([manual(T0, { o2: false }), reading(T0, { hr: 0 })]);
    expect(freshValues(latest, T0, F)).toEqual({ o2: false, hr: 0 });
  });

  it('lists only parameters that have a fresh value (no undefined keys)', () => {
    const latest = mergeAll([reading(T0, { hr: 72 }), manual(T0, { temp: 37.0 })]);
    expect(Object.keys(freshValues(latest, T0 + 10 * MIN, F))).toEqual(['temp']);
  });

  it('honours a custom freshness', () => {
    const latest = mergeAll([reading(T0, { hr: 72 }), manual(T0, { temp: 37.0 })]);
    const strict: Freshness = { deviceMs: 1000, intermittentMs: 1000, manualMs: 2000 };
    expect(freshValues(latest, T0 + 1000, strict)).toEqual({ hr: 72, temp: 37.0 });
    expect(freshValues(latest, T0 + 1001, strict)).toEqual({ temp: 37.0 });
    expect(freshValues(latest, T0 + 2000, strict)).toEqual({ temp: 37.0 });
    expect(freshValues(latest, T0 + 2001, strict)).toEqual({});
  });
});

describe('stampedValues', () => {
  it('ignores freshness and gives value, time and source of each parameter', () => {
    const latest = mergeAll([reading(T0, { hr: 72 }), manual(T0, { o2: false })]);
    expect(freshValues(latest, T0 + 13 * HOUR, F)).toEqual({});
    expect(stampedValues(latest)).toEqual({
      hr: { value: 72, ts: T0, at: T0, source: 'device' },
      o2: { value: false, ts: T0, at: T0, source: 'manual' },
    });
  });

  it('gives the newest value across sources, even a stale one over an older fresh one', () => {
    const latest = mergeAll([manual(T0, { spo2: 94 }), reading(T0 + HOUR, { spo2: 97 })]);
    expect(stampedValues(latest)).toEqual({ spo2: { value: 97, ts: T0 + HOUR, at: T0 + HOUR, source: 'device' } });
    const manualNewer = mergeReading(latest, manual(T0 + 2 * HOUR, { spo2: 92 }));
    expect(stampedValues(manualNewer)).toEqual({ spo2: { value: 92, ts: T0 + 2 * HOUR, at: T0 + 2 * HOUR, source: 'manual' } });
  });

  it('does not expose the device id', () => {
    const latest = mergeReading(EMPTY_LATEST, reading(T0, { hr: 72 }, 'mon-9'));
    expect(stampedValues(latest).hr).not.toHaveProperty('deviceId');
  });
});

describe('clinical assessments (ACVPU, air/oxygen): a nurse\'s fresh value wins', () => {
  it('over a newer device value, until it goes stale', () => {
    const latest = mergeAll([manual(T0, { acvpu: 'C', o2: true }), reading(T0 + MIN, { acvpu: 'A', o2: false })]);
    expect(freshValues(latest, T0 + 2 * MIN, F)).toMatchObject({ acvpu: 'C', o2: true });
    // The manual window over, the device value counts again (if still fresh itself).
    const short: Freshness = { ...F, manualMs: 90_000 };
    expect(freshValues(latest, T0 + 2 * MIN, short)).toMatchObject({ acvpu: 'A', o2: false });
  });

  it('a numeric parameter still goes by the newest fresh value', () => {
    const latest = mergeAll([manual(T0, { hr: 90 }), reading(T0 + MIN, { hr: 72 })]);
    expect(freshValues(latest, T0 + 2 * MIN, F)).toMatchObject({ hr: 72 });
  });

  it('stampedValues shows the assessment the score uses', () => {
    const latest = mergeAll([manual(T0, { acvpu: 'V' }), reading(T0 + MIN, { acvpu: 'A' })]);
    expect(stampedValues(latest).acvpu).toMatchObject({ value: 'A', source: 'device' });
    expect(stampedValues(latest, T0 + 2 * MIN, F).acvpu).toMatchObject({ value: 'V', source: 'manual' });
  });
});

describe('age counts from receipt when the device clock runs fast', () => {
  it('a reading stamped 4 min in the future goes stale 30 s after it arrived', () => {
    const arrived = T0;
    const r: Reading = { ts: arrived + 4 * MIN, receivedAt: arrived, values: { hr: 70 }, deviceId: 'd', patientId: 'p1', source: 'device' };
    const latest = mergeReading(EMPTY_LATEST, r);
    expect(latest.device.hr).toMatchObject({ ts: arrived + 4 * MIN, at: arrived });
    expect(freshValues(latest, arrived + 30_000, DEFAULT_FRESHNESS)).toEqual({ hr: 70 });
    expect(freshValues(latest, arrived + 30_001, DEFAULT_FRESHNESS)).toEqual({});
    expect(freshUntil(latest.device.hr!, 'hr', DEFAULT_FRESHNESS)).toBe(arrived + 30_000);
  });

  it('back-filled history is as old as it says', () => {
    const r: Reading = { ts: T0 - 10 * MIN, receivedAt: T0, values: { hr: 70 }, deviceId: 'd', patientId: 'p1', source: 'device' };
    expect(freshValues(mergeReading(EMPTY_LATEST, r), T0, DEFAULT_FRESHNESS)).toEqual({});
  });
});

describe('the persistence filter (median of the last minute)', () => {
  it('one artefact does not move the median', () => {
    const w: SampleWindow = {};
    for (let i = 0; i < 30; i++) addSample(w, 'spo2', T0 + i * 1000, 97);
    addSample(w, 'spo2', T0 + 30_000, 62);
    expect(windowMedian(w, 'spo2', T0 + 30_000)).toBe(97);
  });

  it('a sustained change moves it within half the window', () => {
    const w: SampleWindow = {};
    for (let i = 0; i < 60; i++) addSample(w, 'hr', T0 + i * 1000, 70);
    for (let i = 60; i < 91; i++) addSample(w, 'hr', T0 + i * 1000, 130);
    expect(windowMedian(w, 'hr', T0 + 90_000)).toBe(130);
  });

  it('forgets what is older than the window, keeps time order for late samples', () => {
    const w: SampleWindow = {};
    addSample(w, 'rr', T0, 30);
    addSample(w, 'rr', T0 + 61_000, 14);
    expect(windowMedian(w, 'rr', T0 + 61_000)).toBe(14);
    addSample(w, 'rr', T0 + 60_500, 16);
    expect(w.rr).toEqual([T0 + 60_500, 16, T0 + 61_000, 14]);
    expect(windowMedian(w, 'rr', T0 + 200_000)).toBeUndefined();
  });
});
