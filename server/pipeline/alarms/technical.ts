// Technical alarms (IEC 60601-1-8 technical category) from what is known about each device:
// silence, a sensor that stopped reporting, artifact, lost readings, battery, clock skew.
// Pure: the caller keeps one DeviceFacts per device (folding readings in with noteReading) and
// passes the time in. Inputs are never mutated.
import type { Condition } from '../../domain/alarms.ts';
import { NUMERIC_VITALS } from '../../domain/vitals.ts';

export interface DeviceFacts {
  deviceId: string;
  status: 'online' | 'offline' | 'unknown';
  /** Server receipt time of the last reading, epoch ms. */
  lastSeenAt: number | null;
  /** Per parameter, epoch ms (server receipt time) it was last received. */
  lastValueAt: Partial<Record<string, number>>;
  /** Epoch ms of recent implausible-value refusals. */
  implausibleAt: number[];
  /** Epoch ms of recent seq gaps and their sizes. */
  seqGaps: { at: number; missing: number }[];
  battery: { value: number; at: number } | null;
  /** Recent (receivedAt − ts) in ms, newest last. */
  skewMs: number[];
  /**
   * Parameters the device reports as "no signal" (SpO2 0: the probe sees no pulse), with the
   * receipt time of the first such report of the current episode. Cleared by a real value.
   */
  noSignal: Partial<Record<string, number>>;
}

export interface TechnicalConfig {
  /** No data for longer than this → offline. */
  expectedIntervalMs: number;
  /** A parameter the device was sending, missing for longer than this → sensor off. */
  sensorOffMs: number;
  /** A parameter counts as "being sent" if seen within this. */
  sensorRecentMs: number;
  /** Parameters measured now and then (cuff BP, temperature probes read on demand): never "sensor off". */
  intermittent: readonly string[];
  /** This many implausible refusals within artifactWindowMs → artifact. */
  artifactCount: number;
  artifactWindowMs: number;
  seqGapWindowMs: number;
  /** Percent. Below batteryLow → low priority; below batteryCritical → medium. */
  batteryLow: number;
  batteryCritical: number;
  /** Median |receivedAt − ts| above this → clock skew. */
  skewMs: number;
}

export const DEFAULT_TECHNICAL: TechnicalConfig = {
  expectedIntervalMs: 30_000,
  sensorOffMs: 30_000,
  sensorRecentMs: 5 * 60_000,
  intermittent: ['sbp', 'dbp', 'temp'],
  artifactCount: 3,
  artifactWindowMs: 60_000,
  seqGapWindowMs: 60_000,
  batteryLow: 20,
  batteryCritical: 10,
  skewMs: 30_000,
};

/** Recent-event arrays keep this much history; a battery report older than this is ignored. */
export const FACTS_RETENTION_MS = 10 * 60_000;
/** How many skew samples are kept for the median. */
export const SKEW_SAMPLES = 20;

const LABEL: Record<string, string> = { hr: 'HR', spo2: 'SpO2', rr: 'RR', temp: 'Temp', sbp: 'BP', dbp: 'BP' };

/** "45 s", "12 min", "3 h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h`;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function within(at: number, now: number, windowMs: number): boolean {
  return at <= now && now - at <= windowMs;
}

type Base = Pick<Condition, 'category' | 'delayMs' | 'deviceId'>;

/** One `sensor-off` condition (key per device and parameter): the parameter is silent or says "no signal". */
function sensorOff(base: Base, parameter: string, ageMs: number, limit: number, text: Pick<Condition, 'rule' | 'message'>): Condition {
  return { ...base, key: `sensor-off:${base.deviceId}:${parameter}`, kind: 'sensor-off', priority: 'medium', parameter, value: Math.round(ageMs / 1000), limit, ...text };
}

function deviceConditions(d: DeviceFacts, now: number, cfg: TechnicalConfig): Condition[] {
  const out: Condition[] = [];
  const id = d.deviceId;
  const base: Base = { category: 'technical', delayMs: 0, deviceId: id };
  const silentMs = d.lastSeenAt === null ? null : now - d.lastSeenAt;

  // Offline: the broker says so, or the data stopped. Never seen and status unknown: a device
  // registered but not yet switched on is not an alarm.
  const offline = d.status === 'offline' || (silentMs !== null && silentMs > cfg.expectedIntervalMs);
  if (offline) {
    out.push({
      ...base,
      key: `device-offline:${id}`,
      kind: 'device-offline',
      priority: 'medium',
      parameter: null,
      value: silentMs === null ? null : Math.round(silentMs / 1000),
      limit: cfg.expectedIntervalMs / 1000,
      rule: `no data from device > ${formatDuration(cfg.expectedIntervalMs)}`,
      message: d.status === 'offline' ? `Device ${id} offline` : `No signal from ${id} for ${formatDuration(silentMs ?? 0)}`,
    });
  }

  // No signal: the device says it has no measurement (SpO2 0 from a pulse oximeter is "no pulse
  // detected" — a probe off or a finger too cold — not a saturation of 0 %). IEC 60601-1-8
  // technical alarm condition, medium like a sensor off, at once: the device itself says so.
  const noSignal = new Set<string>();
  if (!offline) {
    for (const [parameter, since] of Object.entries(d.noSignal)) {
      const last = d.lastValueAt[parameter];
      if (since === undefined || last === undefined || now - last > cfg.sensorRecentMs) continue;
      noSignal.add(parameter);
      out.push(
        sensorOff(base, parameter, Math.max(0, now - since), 0, {
          rule: `${parameter} reported as no signal (${parameter} 0) by the device`,
          message: `No ${LABEL[parameter] ?? parameter} signal from ${id} (check the sensor)`,
        }),
      );
    }
  }

  // Sensor off: only while the device itself is sending (else the offline alarm covers it).
  if (!offline && silentMs !== null) {
    for (const [parameter, at] of Object.entries(d.lastValueAt)) {
      if (at === undefined || noSignal.has(parameter)) continue;
      const age = now - at;
      if (age <= cfg.sensorOffMs || age > cfg.sensorRecentMs || cfg.intermittent.includes(parameter)) continue;
      out.push(
        sensorOff(base, parameter, age, cfg.sensorOffMs / 1000, {
          rule: `${parameter} missing > ${formatDuration(cfg.sensorOffMs)} while the device sends`,
          message: `${LABEL[parameter] ?? parameter} sensor off? no ${parameter} from ${base.deviceId} for ${formatDuration(age)}`,
        }),
      );
    }
  }

  const implausible = d.implausibleAt.filter((at) => within(at, now, cfg.artifactWindowMs)).length;
  if (implausible >= cfg.artifactCount) {
    out.push({
      ...base,
      key: `artifact:${id}`,
      kind: 'artifact',
      priority: 'low',
      parameter: null,
      value: implausible,
      limit: cfg.artifactCount,
      rule: `≥ ${cfg.artifactCount} implausible values in ${formatDuration(cfg.artifactWindowMs)}`,
      message: `Signal artifact: ${implausible} implausible values in ${formatDuration(cfg.artifactWindowMs)}`,
    });
  }

  const gaps = d.seqGaps.filter((g) => within(g.at, now, cfg.seqGapWindowMs));
  if (gaps.length > 0) {
    const missing = gaps.reduce((n, g) => n + g.missing, 0);
    out.push({
      ...base,
      key: `seq-gap:${id}`,
      kind: 'seq-gap',
      priority: 'low',
      parameter: null,
      value: missing,
      limit: 0,
      rule: `seq gap within ${formatDuration(cfg.seqGapWindowMs)}`,
      message: `Lost readings: ${missing} missing (seq gap) from ${id}`,
    });
  }

  if (d.battery && within(d.battery.at, now, FACTS_RETENTION_MS) && d.battery.value < cfg.batteryLow) {
    const critical = d.battery.value < cfg.batteryCritical;
    const limit = critical ? cfg.batteryCritical : cfg.batteryLow;
    out.push({
      ...base,
      key: `battery:${id}`,
      kind: 'battery',
      priority: critical ? 'medium' : 'low',
      parameter: null,
      value: d.battery.value,
      limit,
      rule: `battery < ${limit}%`,
      message: `Battery ${critical ? 'critical' : 'low'}: ${Math.round(d.battery.value)}% on ${id}`,
    });
  }

  if (d.skewMs.length > 0) {
    const skew = median(d.skewMs);
    if (Math.abs(skew) > cfg.skewMs) {
      out.push({
        ...base,
        key: `clock-skew:${id}`,
        kind: 'clock-skew',
        priority: 'low',
        parameter: null,
        value: Math.round(skew / 1000),
        limit: cfg.skewMs / 1000,
        rule: `median |receivedAt − ts| > ${formatDuration(cfg.skewMs)}`,
        message: `Device clock off by ${formatDuration(Math.abs(skew))}`,
      });
    }
  }

  return out;
}

export function technicalConditions(devices: DeviceFacts[], now: number, cfg: TechnicalConfig = DEFAULT_TECHNICAL): Condition[] {
  return devices.flatMap((d) => deviceConditions(d, now, cfg));
}

export function emptyFacts(deviceId: string): DeviceFacts {
  return { deviceId, status: 'unknown', lastSeenAt: null, lastValueAt: {}, implausibleAt: [], seqGaps: [], battery: null, skewMs: [], noSignal: {} };
}

const VITAL_SET: ReadonlySet<string> = new Set(NUMERIC_VITALS);

/**
 * Readings missing between two seq values of one device: a jump forward counts the numbers
 * skipped; a seq at or below the previous one (reboot, resend) or no seq counts nothing.
 */
export function seqMissing(prevSeq: number | null, seq: number | undefined): number {
  return seq !== undefined && prevSeq !== null && seq > prevSeq + 1 ? seq - prevSeq - 1 : 0;
}

/**
 * Fold one accepted reading into a device's facts. Times are server receipt times (`receivedAt`),
 * the clock `now` is measured against; the device's own `ts` only feeds the skew estimate.
 * Only finite numeric vitals count as "a parameter the device sends" (not seq, o2, acvpu).
 * A seq jump forward records a gap; a seq at or below the previous one (reboot, resend) does not.
 * `status` is left alone: it comes from the connection (e.g. MQTT will message), not from data.
 */
export function noteReading(
  facts: DeviceFacts,
  reading: { ts: number; receivedAt: number; values: Record<string, unknown>; seq?: number },
  prevSeq: number | null,
  noSignal: readonly string[] = [],
): DeviceFacts {
  const at = reading.receivedAt;
  const lastValueAt = { ...facts.lastValueAt };
  let signal = facts.noSignal;
  for (const k in reading.values) {
    const v = reading.values[k];
    if (VITAL_SET.has(k) && typeof v === 'number' && Number.isFinite(v)) {
      lastValueAt[k] = Math.max(lastValueAt[k] ?? at, at);
      if (signal[k] !== undefined) {
        signal = { ...signal };
        delete signal[k];
      }
    }
  }
  for (const k of noSignal) {
    if (signal[k] === undefined) signal = { ...signal, [k]: at };
    // "No signal" still proves the sensor is connected to a sending device: not a sensor-off by silence.
    lastValueAt[k] = Math.max(lastValueAt[k] ?? at, at);
  }
  const missing = seqMissing(prevSeq, reading.seq);
  const seqGaps = missing > 0 ? [...facts.seqGaps, { at, missing }] : facts.seqGaps;
  const latest = Math.max(facts.lastSeenAt ?? at, at);
  const fresh = (t: number) => latest - t <= FACTS_RETENTION_MS;
  return {
    ...facts,
    lastSeenAt: latest,
    lastValueAt,
    noSignal: signal,
    // Most readings carry no news here: keep the same arrays rather than copy them every second.
    implausibleAt: facts.implausibleAt.length === 0 || facts.implausibleAt.every(fresh) ? facts.implausibleAt : facts.implausibleAt.filter(fresh),
    seqGaps: seqGaps.length === 0 || seqGaps.every((g) => fresh(g.at)) ? seqGaps : seqGaps.filter((g) => fresh(g.at)),
    skewMs: facts.skewMs.length < SKEW_SAMPLES ? [...facts.skewMs, at - reading.ts] : [...facts.skewMs.slice(1 - SKEW_SAMPLES), at - reading.ts],
  };
}

/** Record an implausible-value refusal (the decoder refused a value as physically impossible). */
export function noteImplausible(facts: DeviceFacts, at: number): DeviceFacts {
  const latest = Math.max(at, facts.lastSeenAt ?? at);
  return { ...facts, implausibleAt: [...facts.implausibleAt, at].filter((t) => latest - t <= FACTS_RETENTION_MS) };
}

/** Record a battery report (percent). An older report than the one held is ignored. */
export function noteBattery(facts: DeviceFacts, value: number, at: number): DeviceFacts {
  if (!Number.isFinite(value) || (facts.battery && facts.battery.at > at)) return facts;
  return { ...facts, battery: { value, at } };
}
