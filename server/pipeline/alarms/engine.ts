// The monitoring engine: per patient, merge the latest values, score NEWS2, gather every alarm
// condition (limits, NEWS2 bands, trends, technical, observations due) and run the alarm
// lifecycle. Deterministic: all time comes in as `now`; wiring and I/O live at the edge
// (operators.ts for the streams, server.ts for the sinks).
import { DEFAULT_FRESHNESS, NUMERIC_VITALS, type Freshness, type Reading, type VitalKey, type VitalValues } from '../../domain/vitals.ts';
import {
  addSample,
  CONTINUOUS,
  EMPTY_LATEST,
  freshStamps,
  freshUntil,
  isFresh,
  latestOf,
  mergeReading,
  windowMedian,
  type LatestValues,
  type SampleWindow,
} from '../latest.ts';
import { scoreNews2 } from '../score/news2.ts';
import { NEWS2_PARAMETERS, type News2Result, type ObservationsDue } from '../../domain/news2.ts';
import type { ScoreUpdate } from '../../domain/events.ts';
import type { Actor, Alarm, AlarmAction, AlarmLimits, Condition, Escalation, Transition } from '../../domain/alarms.ts';
import {
  limitConditions,
  news2Conditions,
  DEFAULT_LIMIT_POLICY,
  DEFAULT_NEWS2_POLICY,
  type LimitPolicy,
  type News2Policy,
  type OpenView,
} from './physiological.ts';
import { applyAction, restore, stepLifecycle, DEFAULT_LIFECYCLE, EMPTY_PATIENT_ALARMS, type LifecycleConfig, type PatientAlarms } from './lifecycle.ts';
import { trendConditions, updateTrends, DEFAULT_TREND_RULES, EMPTY_TREND_STATE, type TrendContext, type TrendRule, type TrendState } from './trends.ts';
import { emptyFacts, noteBattery, noteReading, technicalConditions, DEFAULT_TECHNICAL, type DeviceFacts, type TechnicalConfig } from './technical.ts';
import { intervalMs, obsDueCondition, observationDue } from './obs-due.ts';
import { labCriticalConditions, type LabCriticalResult } from './lab-critical.ts';

/** The median of a streamed parameter is recomputed at most this often per patient. */
const MEDIAN_REFRESH_MS = 1000;

/** A `seq` this far below the last one means the device restarted its counter. */
const SEQ_RESTART_DROP = 1000;

export interface PatientContext {
  spo2Scale: 1 | 2;
  limits: AlarmLimits | null;
}

export interface EngineConfig {
  freshness: Freshness;
  lifecycle: LifecycleConfig;
  technical: TechnicalConfig;
  trends: TrendRule[];
  limits: LimitPolicy;
  news2: News2Policy;
  /** A patient is re-evaluated on the clock when nothing else did it for this long. */
  evaluateEveryMs: number;
}

export const DEFAULT_ENGINE: EngineConfig = {
  freshness: DEFAULT_FRESHNESS,
  lifecycle: DEFAULT_LIFECYCLE,
  technical: DEFAULT_TECHNICAL,
  trends: DEFAULT_TREND_RULES,
  limits: DEFAULT_LIMIT_POLICY,
  news2: DEFAULT_NEWS2_POLICY,
  evaluateEveryMs: 1000,
};

/**
 * What the engine saves of a patient beyond what the database already holds (readings, alarms),
 * so a restart continues where it stopped: plain JSON.
 */
export interface MonitorSnapshot {
  v: 1;
  firstSeenAt: number;
  lastFullSetAt: number | null;
  /** Per parameter, the narrowed window of its manual value. */
  manualWindows: Partial<Record<VitalKey, number>>;
  pending: Record<string, number>;
  trends: TrendState;
  devices: DeviceFacts[];
  /**
   * False for a patient the engine knows only from a critical lab result (an outpatient, say): no
   * observations-due reminder until a reading, observation or device says it is monitored.
   * Absent (older snapshots): true.
   */
  observed?: boolean;
}

/** The seven NEWS2 parameters in one manual observation: a full set (resets the due timer). */
function isFullSet(values: VitalValues): boolean {
  return NEWS2_PARAMETERS.every((p) => values[p] !== undefined);
}

export interface EngineOutput {
  /** Patients whose latest values changed (for the live snapshot). */
  latest: { patientId: string; latest: LatestValues }[];
  scores: ScoreUpdate[];
  alarms: Alarm[];
  transitions: Transition[];
  escalations: Escalation[];
}

export const emptyOutput = (): EngineOutput => ({ latest: [], scores: [], alarms: [], transitions: [], escalations: [] });
export const isEmpty = (o: EngineOutput) =>
  o.latest.length === 0 && o.scores.length === 0 && o.alarms.length === 0 && o.transitions.length === 0 && o.escalations.length === 0;

interface PatientMonitor {
  latest: LatestValues;
  /** The last minute of each continuous device parameter (NEWS2 scores its median). */
  samples: SampleWindow;
  /** The medians as last computed, and when: refreshed at most once a second (a device streaming fast costs no more). */
  medians: Partial<Record<VitalKey, { at: number; value: number | undefined }>>;
  score: News2Result | null;
  scoreKey: string;
  obsKey: string;
  trends: TrendState;
  alarms: PatientAlarms;
  /** Last manual observation holding all seven NEWS2 parameters (its measurement time). */
  lastFullSetAt: number | null;
  /**
   * How long each manual value counts: the strictest RCP monitoring interval the patient has
   * needed since that value was recorded (narrowing only, so a value that went stale stays stale;
   * recording another parameter does not revive it).
   */
  manualWindows: Partial<Record<VitalKey, number>>;
  /** Bumped whenever `manualWindows` changes (the score event carries them). */
  windowsRev: number;
  /** freshnessOf's cache: rebuilt when `manualWindows` is replaced. */
  freshness?: Freshness;
  firstSeenAt: number;
  /**
   * Monitored: a reading, observation, device or restored value has been seen. A patient known
   * only from a critical lab result is not (yet): its alarms run, the observations-due clock does
   * not — it starts, from then, with the first of those.
   */
  observed: boolean;
  devices: Map<string, DeviceFacts>;
  evaluatedAt: number;
  /**
   * Changed since the last snapshot was taken: `dirty` for what a restart must not lose (alarm
   * delays, manual windows, the last full set, device status), `slowDirty` for what a device
   * reading moves every second and a restart may find a minute old (trend baselines, device facts).
   */
  dirty: boolean;
  slowDirty: boolean;
}

export interface EngineDeps {
  context(patientId: string): PatientContext | undefined;
  newId(): string;
  onError?(err: unknown, patientId: string): void;
}

export class AlarmEngine {
  private readonly patients = new Map<string, PatientMonitor>();
  private readonly deviceOwner = new Map<string, string>();
  private readonly lastSeq = new Map<string, number>();

  constructor(
    private readonly deps: EngineDeps,
    private readonly cfg: EngineConfig = DEFAULT_ENGINE,
    restored: Alarm[] = [],
    snapshots: ReadonlyMap<string, MonitorSnapshot> = new Map(),
    now: number = Date.now(),
  ) {
    const byPatient = new Map<string, Alarm[]>();
    for (const a of restored) byPatient.set(a.patientId, [...(byPatient.get(a.patientId) ?? []), a]);
    for (const id of new Set([...byPatient.keys(), ...snapshots.keys()])) {
      const alarms = byPatient.get(id) ?? [];
      const snap = snapshots.get(id);
      const m = this.monitor(id, snap?.firstSeenAt ?? Math.min(now, ...alarms.map((a) => a.ts)));
      m.observed = snap ? (snap.observed ?? true) : alarms.some((a) => a.kind !== 'lab-critical');
      m.alarms = restore(alarms, snap?.pending ?? {}, now, cfg.lifecycle);
      for (const a of alarms) if (a.deviceId) m.devices.set(a.deviceId, emptyFacts(a.deviceId));
      if (snap) {
        m.lastFullSetAt = snap.lastFullSetAt;
        m.manualWindows = snap.manualWindows ?? {};
        m.trends = snap.trends;
        // The connection is gone with the old process: what the device last did is known, its status is not.
        for (const f of snap.devices) {
          m.devices.set(f.deviceId, { ...emptyFacts(f.deviceId), ...f, status: 'unknown' });
          this.deviceOwner.set(f.deviceId, id);
        }
      }
      m.dirty = false;
      m.slowDirty = false;
    }
  }

  /**
   * Restore the latest values of a patient after a restart (the newest value of each parameter
   * from the database, manual observations of the last hours): merged without evaluating, so the
   * first evaluation scores them with their original times and freshness. A manual full set among
   * them dates the observations-due timer.
   */
  restoreReadings(patientId: string, readings: Reading[], now: number): LatestValues {
    const m = this.monitor(patientId, now);
    if (readings.length > 0) this.observe(m, now);
    for (const r of readings) this.absorb(m, r);
    return m.latest;
  }

  /** Fold a reading into the patient's values: latest per source, the full-set time, the median window. */
  private absorb(m: PatientMonitor, r: Reading): void {
    m.latest = mergeReading(m.latest, r);
    if (r.source === 'manual' && isFullSet(r.values)) m.lastFullSetAt = Math.max(m.lastFullSetAt ?? 0, r.ts);
    if (r.source !== 'device') return;
    // Age counts from receipt when the device clock runs ahead (docs/alarms.md, "Freshness").
    const at = Math.min(r.ts, r.receivedAt);
    for (const k of CONTINUOUS) {
      const v = r.values[k];
      if (typeof v === 'number') addSample(m.samples, k, at, v);
    }
  }

  /**
   * Snapshots of the patients whose clinical state changed since the last call — with `slow`, also
   * of those whose trends or device facts moved — or of all of them.
   */
  snapshots(all = false, slow = false): { patientId: string; snapshot: MonitorSnapshot }[] {
    const out: { patientId: string; snapshot: MonitorSnapshot }[] = [];
    for (const [patientId, m] of this.patients) {
      if (!all && !m.dirty && !(slow && m.slowDirty)) continue;
      m.dirty = false;
      m.slowDirty = false;
      out.push({
        patientId,
        snapshot: {
          v: 1,
          firstSeenAt: m.firstSeenAt,
          lastFullSetAt: m.lastFullSetAt,
          manualWindows: m.manualWindows,
          pending: m.alarms.pending,
          trends: m.trends,
          devices: [...m.devices.values()],
          observed: m.observed,
        },
      });
    }
    return out;
  }

  private monitor(patientId: string, now: number, observed = true): PatientMonitor {
    let m = this.patients.get(patientId);
    if (!m) {
      m = {
        latest: EMPTY_LATEST,
        samples: {},
        medians: {},
        score: null,
        scoreKey: '',
        obsKey: '',
        trends: EMPTY_TREND_STATE,
        alarms: EMPTY_PATIENT_ALARMS,
        lastFullSetAt: null,
        manualWindows: {},
        windowsRev: 0,
        firstSeenAt: now,
        observed,
        devices: new Map(),
        evaluatedAt: 0,
        dirty: true,
        slowDirty: true,
      };
      this.patients.set(patientId, m);
    }
    return m;
  }

  /** The patient is monitored from `now` (a reading, observation or device): the observations-due clock starts. */
  private observe(m: PatientMonitor, now: number): void {
    if (m.observed) return;
    m.observed = true;
    m.firstSeenAt = now;
    m.dirty = true;
  }

  /** Keep a device's facts with the patient it belongs to now (it may have been reassigned). */
  private factsOf(deviceId: string, patientId: string, now: number): DeviceFacts {
    const owner = this.deviceOwner.get(deviceId);
    if (owner !== undefined && owner !== patientId) this.patients.get(owner)?.devices.delete(deviceId);
    this.deviceOwner.set(deviceId, patientId);
    const m = this.monitor(patientId, now);
    this.observe(m, now);
    let f = m.devices.get(deviceId);
    if (!f) m.devices.set(deviceId, (f = emptyFacts(deviceId)));
    return f;
  }

  /**
   * `backfill`: the reading came in a batch (a device flushing what it buffered offline): its age
   * says nothing about the device clock. `noSignal`: parameters the device reported as "no
   * signal" (SpO2 0), already taken out of `r.values`.
   */
  reading(r: Reading, now: number, battery?: number, backfill = false, noSignal: readonly string[] = []): EngineOutput {
    const out = emptyOutput();
    if (r.deviceId) {
      const prev = this.lastSeq.get(r.deviceId) ?? null;
      if (r.patientId) {
        const seen = { ts: backfill ? r.receivedAt : r.ts, receivedAt: r.receivedAt, values: r.values as Record<string, unknown>, seq: r.seq };
        let f = noteReading(this.factsOf(r.deviceId, r.patientId, now), seen, prev, noSignal);
        if (battery !== undefined) f = noteBattery(f, battery, r.receivedAt);
        this.patients.get(r.patientId)!.devices.set(r.deviceId, f);
      }
      // Forward moves the counter; a late duplicate does not; a big step back is a device restart.
      if (r.seq !== undefined && (prev === null || r.seq > prev || r.seq < prev - SEQ_RESTART_DROP)) this.lastSeq.set(r.deviceId, r.seq);
    }
    if (!r.patientId) return out;
    const m = this.monitor(r.patientId, now);
    this.observe(m, now);
    if (r.source === 'manual') m.dirty = true;
    else m.slowDirty = true;
    this.absorb(m, r);
    if (r.source === 'manual') {
      // The parameters the nurse just observed count again for the longest window; the evaluation
      // below narrows it. The others keep theirs: a temperature does not revive an old ACVPU.
      m.manualWindows = { ...m.manualWindows };
      for (const k of Object.keys(r.values) as VitalKey[]) m.manualWindows[k] = this.cfg.freshness.manualMs;
      m.windowsRev++;
    }
    const numeric: Record<string, number> = {};
    for (const k of NUMERIC_VITALS) {
      const v = r.values[k];
      if (typeof v === 'number') numeric[k] = v;
    }
    let trendError: unknown = null;
    try {
      m.trends = updateTrends(m.trends, Math.min(r.ts, r.receivedAt), numeric, this.trendContext(r.patientId, m, now), this.cfg.trends);
    } catch (err) {
      trendError = err;
    }
    out.latest.push({ patientId: r.patientId, latest: m.latest });
    // One patient's bad state must never stop monitoring for the others; reported once.
    if (this.evaluate(r.patientId, m, now, out) && trendError) this.deps.onError?.(trendError, r.patientId);
    return out;
  }

  private trendContext(patientId: string, m: PatientMonitor, now: number): TrendContext {
    const o2 = latestOf(m.latest, 'o2', { now, freshness: this.freshnessOf(m) });
    return { spo2Scale: this.deps.context(patientId)?.spo2Scale ?? 1, onOxygen: o2 ? (o2.value as boolean) : null };
  }

  /** The patient's freshness windows; one object per change of its manual windows, not per call. */
  private freshnessOf(m: PatientMonitor): Freshness {
    if (m.freshness?.manualByKey !== m.manualWindows) m.freshness = { ...this.cfg.freshness, manualByKey: m.manualWindows };
    return m.freshness;
  }

  deviceStatus(deviceId: string, patientId: string | null, status: 'online' | 'offline', now: number): EngineOutput {
    const out = emptyOutput();
    if (!patientId) return out;
    const f = this.factsOf(deviceId, patientId, now);
    const m = this.patients.get(patientId)!;
    m.dirty = true;
    m.devices.set(deviceId, { ...f, status, lastSeenAt: status === 'online' ? Math.max(f.lastSeenAt ?? 0, now) : f.lastSeenAt });
    this.evaluate(patientId, m, now, out);
    return out;
  }

  /** A device sent an implausible value (a sign of artifact). Evaluated on the next tick. */
  implausible(deviceId: string, patientId: string | null, at: number): void {
    if (!patientId) return;
    const f = this.factsOf(deviceId, patientId, at);
    this.patients.get(patientId)!.devices.set(deviceId, { ...f, implausibleAt: [...f.implausibleAt.filter((t) => at - t < 10 * 60_000), at] });
  }

  /**
   * Critical results of one lab order (lab-critical.ts): each raises a high-priority latching alarm
   * on the patient at once, through the same lifecycle as every other alarm. The report is the
   * event: its conditions hold for one evaluation, and a second one at the same instant finds them
   * gone, so the alarms leave here already latched (`conditionActive: false`), waiting for a
   * clinician — an acknowledgement or a resolve ends them at once, whenever it comes. A patient the
   * engine did not know becomes known, without starting its observations-due clock.
   */
  labCritical(patientId: string, orderId: string, results: readonly LabCriticalResult[], now: number): EngineOutput {
    const out = emptyOutput();
    const m = this.monitor(patientId, now, false);
    m.dirty = true;
    this.evaluate(patientId, m, now, out, labCriticalConditions(orderId, results));
    this.evaluate(patientId, m, now, out);
    // Each alarm once, in its last version (opened, then latched).
    const last = new Map(out.alarms.map((a) => [a.id, a]));
    out.alarms = [...last.values()];
    return out;
  }

  /**
   * At start, once the alarms and latest values are restored: evaluate every patient now, so the
   * open alarms are re-derived from their conditions before anyone looks. After an unclean
   * shutdown (SIGKILL, OOM, power) the database may be older than what the dashboards last saw —
   * the engine's own transitions are not waited for — so an alarm may be open whose condition has
   * gone, a raised or worsened one may be missing, or a saved alarm delay may have run out. The
   * lifecycle settles each (a worse condition re-alarms, a latching one stays, an acknowledgement
   * stored by a person is kept), and with `note` every system transition this makes says so.
   */
  reconcile(now: number, note: string | null): EngineOutput {
    const out = emptyOutput();
    for (const [id, m] of this.patients) this.evaluate(id, m, now, out);
    if (note) out.transitions = out.transitions.map((t) => ({ ...t, comment: t.comment ? `${t.comment} (${note})` : note }));
    return out;
  }

  /** The clock: re-evaluate patients nobody evaluated recently (staleness, delays, timers). */
  tick(now: number): EngineOutput {
    const out = emptyOutput();
    for (const [id, m] of this.patients) {
      if (now - m.evaluatedAt >= this.cfg.evaluateEveryMs) this.evaluate(id, m, now, out);
    }
    return out;
  }

  act(alarmId: string, action: AlarmAction, actor: Actor, now: number, comment: string | null) {
    for (const [, m] of this.patients) {
      if (!Object.values(m.alarms.open).some((a) => a.id === alarmId)) continue;
      const r = applyAction(m.alarms, alarmId, action, actor, now, comment, this.cfg.lifecycle);
      if (!r.ok) return r;
      m.alarms = r.state;
      m.dirty = true;
      return { ...r, output: { ...emptyOutput(), alarms: [r.alarm], transitions: r.transitions } };
    }
    return { ok: false as const, code: 'ERR_NOT_FOUND' as const, message: `no open alarm '${alarmId}'` };
  }

  openAlarms(patientId: string): Alarm[] {
    return Object.values(this.patients.get(patientId)?.alarms.open ?? {});
  }

  findOpen(alarmId: string): Alarm | undefined {
    for (const m of this.patients.values()) {
      for (const a of Object.values(m.alarms.open)) if (a.id === alarmId) return a;
    }
    return undefined;
  }

  observations(patientId: string): ObservationsDue | null {
    const m = this.patients.get(patientId);
    return m?.observed ? observationDue(m.lastFullSetAt, m.firstSeenAt, m.score, this.streaming(m, Date.now())) : null;
  }

  /** A device is streaming a continuous parameter for this patient now. */
  private streaming(m: PatientMonitor, now: number): boolean {
    for (const k of CONTINUOUS) {
      const d = m.latest.device[k];
      if (d && isFresh(d, k, now, this.cfg.freshness)) return true;
    }
    return false;
  }

  /**
   * Absence of data is not evidence of recovery: an open alarm whose rule has nothing to judge by
   * (its parameter has no fresh value, its device has sent nothing since a restart, the sensor has
   * not come back) is held as it is instead of being resolved.
   */
  private withoutEvidence(m: PatientMonitor, values: Record<string, unknown>, conditions: Condition[]): Condition[] {
    const present = new Set(conditions.map((c) => c.key));
    const held: Condition[] = [];
    for (const a of Object.values(m.alarms.open)) {
      if (present.has(a.key)) continue;
      let hold = false;
      if (a.kind === 'limit' || a.kind === 'trend') hold = a.parameter !== null && values[a.parameter] === undefined;
      else if (a.category === 'technical' && a.deviceId) {
        const f = m.devices.get(a.deviceId);
        if (!f || f.lastSeenAt === null) hold = true; // nothing heard since a restart
        else if (a.kind === 'sensor-off' && a.parameter) hold = (f.lastValueAt[a.parameter] ?? 0) < a.ts; // not back yet
      }
      if (hold) {
        held.push({ key: a.key, kind: a.kind, category: a.category, priority: a.priority, parameter: a.parameter, value: a.value, limit: a.limit, rule: a.rule, message: a.message, delayMs: 0, deviceId: a.deviceId });
      }
    }
    return held;
  }

  /** False when the evaluation failed (reported through onError). `events`: conditions that hold at this evaluation only (critical lab results). */
  private evaluate(patientId: string, m: PatientMonitor, now: number, out: EngineOutput, events: Condition[] = []): boolean {
    try {
      m.evaluatedAt = now;
      const ctx = this.deps.context(patientId) ?? { spo2Scale: 1, limits: null };
      const freshness = this.freshnessOf(m);
      const stamps = freshStamps(m.latest, now, freshness);
      const values: Record<string, unknown> = {};
      let until = 0;
      let dataAt = 0;
      for (const [key, stamp] of Object.entries(stamps) as [VitalKey, NonNullable<(typeof stamps)[VitalKey]>][]) {
        values[key] = stamp.value;
        until = Math.max(until, freshUntil(stamp, key, freshness));
        dataAt = Math.max(dataAt, stamp.at);
      }
      // NEWS2 from persistence-filtered device values: the median of the last minute of each
      // continuous parameter, so one artefact cannot open, re-band or close a NEWS2 alarm.
      const scored: Record<string, unknown> = { ...values };
      for (const k of CONTINUOUS) {
        if (stamps[k]?.source !== 'device') continue;
        let cached = m.medians[k];
        if (!cached || now - cached.at >= MEDIAN_REFRESH_MS || now < cached.at) {
          cached = { at: now, value: windowMedian(m.samples, k, now) };
          m.medians[k] = cached;
        }
        if (cached.value !== undefined) scored[k] = cached.value;
      }
      const hasAny = Object.keys(values).length > 0;
      const score = hasAny ? scoreNews2(scored as VitalValues, ctx.spo2Scale) : null;
      const obs = observationDue(m.lastFullSetAt, m.firstSeenAt, score, this.streaming(m, now));
      // A manual value counts no longer than the monitoring interval the patient needs (RCP chart 4).
      const interval = intervalMs(obs.interval);
      for (const k of Object.keys(m.latest.manual) as VitalKey[]) {
        const w = Math.min(m.manualWindows[k] ?? this.cfg.freshness.manualMs, interval);
        if (w === m.manualWindows[k]) continue;
        m.manualWindows = { ...m.manualWindows, [k]: w };
        m.windowsRev++;
        m.dirty = true;
      }
      const scoreKey = score ? news2Key(score) : '';
      const obsKey = `${obs.dueAt}|${obs.interval}|${m.windowsRev}`;
      if (score && (scoreKey !== m.scoreKey || obsKey !== m.obsKey)) {
        out.scores.push({ patientId, ts: now, news2: score, observations: obs, freshUntil: until, dataAt, manualWindowMs: Math.min(interval, this.cfg.freshness.manualMs), manualWindows: m.manualWindows, lastFullSetAt: m.lastFullSetAt, scored: scored as VitalValues });
      }
      m.score = score;
      m.scoreKey = scoreKey;
      m.obsKey = obsKey;

      const open: OpenView = {};
      for (const a of Object.values(m.alarms.open)) open[a.key] = { limit: a.limit, value: a.value, priority: a.priority };
      const conditions: Condition[] = [
        ...limitConditions(values as VitalValues, ctx.limits, open, this.cfg.limits, ctx.spo2Scale),
        ...news2Conditions(score, open, this.cfg.news2),
        ...trendConditions(m.trends, now, { spo2Scale: ctx.spo2Scale, onOxygen: typeof values.o2 === 'boolean' ? values.o2 : null }, this.cfg.trends),
        ...technicalConditions([...m.devices.values()], now, this.cfg.technical),
      ];
      const due = m.observed ? obsDueCondition(obs, now) : null;
      if (due) conditions.push(due);
      conditions.push(...events);
      conditions.push(...this.withoutEvidence(m, values, conditions));
      const before = m.alarms;
      const step = stepLifecycle(m.alarms, patientId, conditions, now, this.deps.newId, this.cfg.lifecycle);
      m.alarms = step.state;
      if (step.changes.length > 0 || !samePending(before.pending, step.state.pending)) m.dirty = true;
      out.alarms.push(...step.changes);
      out.transitions.push(...step.transitions);
      out.escalations.push(...step.escalations);
      return true;
    } catch (err) {
      // One patient's bad state must never stop monitoring for the others.
      this.deps.onError?.(err, patientId);
      return false;
    }
  }
}

/** Identifies a NEWS2 result: total, band and each sub-score (missing ones as '-'); `partial` and `missing` follow from them. */
function news2Key(score: News2Result): string {
  let key = `${score.total}${score.band}`;
  for (const p of NEWS2_PARAMETERS) key += `|${score.parameters[p] ?? '-'}`;
  return key;
}

function samePending(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
