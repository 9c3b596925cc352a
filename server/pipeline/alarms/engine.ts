// The monitoring engine: per patient, merge the latest values, score NEWS2, gather every alarm
// condition (limits, NEWS2 bands, trends, technical, observations due) and run the alarm
// lifecycle. Deterministic: all time comes in as `now`; wiring and I/O live at the edge
// (operators.ts for the streams, server.ts for the sinks).
import type { Reading } from '../vitals.ts';
import { EMPTY_LATEST, freshValues, mergeReading, type Freshness, type LatestValues } from '../latest.ts';
import { scoreNews2, type News2Result } from '../score/news2.ts';
import type { AlarmLimits } from '../score/limits.ts';
import type { Actor, Alarm, AlarmAction, Condition, Escalation, Transition } from './model.ts';
import { limitConditions, news2Conditions, DEFAULT_LIMIT_POLICY, type LimitPolicy, type OpenView } from './physiological.ts';
import { applyAction, restore, stepLifecycle, DEFAULT_LIFECYCLE, EMPTY_PATIENT_ALARMS, type LifecycleConfig, type PatientAlarms } from './lifecycle.ts';
import { trendConditions, updateTrends, DEFAULT_TREND_RULES, type TrendRule, type TrendState } from './trends.ts';
import { emptyFacts, noteBattery, noteReading, technicalConditions, DEFAULT_TECHNICAL, type DeviceFacts, type TechnicalConfig } from './technical.ts';
import { obsDueCondition, observationDue } from './obs-due.ts';

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
  /** A patient is re-evaluated on the clock when nothing else did it for this long. */
  evaluateEveryMs: number;
}

export const DEFAULT_ENGINE: EngineConfig = {
  freshness: { deviceMs: 5 * 60_000, manualMs: 12 * 3600_000 },
  lifecycle: DEFAULT_LIFECYCLE,
  technical: DEFAULT_TECHNICAL,
  trends: DEFAULT_TREND_RULES,
  limits: DEFAULT_LIMIT_POLICY,
  evaluateEveryMs: 1000,
};

export interface ObservationsDue {
  dueAt: number | null;
  interval: number | 'continuous';
}

export interface ScoreUpdate {
  patientId: string;
  ts: number;
  news2: News2Result;
  observations: ObservationsDue;
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
  score: News2Result | null;
  scoreKey: string;
  obsKey: string;
  trends: TrendState;
  alarms: PatientAlarms;
  lastManualAt: number | null;
  firstSeenAt: number;
  devices: Map<string, DeviceFacts>;
  evaluatedAt: number;
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
  ) {
    const byPatient = new Map<string, Alarm[]>();
    for (const a of restored) byPatient.set(a.patientId, [...(byPatient.get(a.patientId) ?? []), a]);
    for (const [patientId, alarms] of byPatient) {
      const m = this.monitor(patientId, Math.min(...alarms.map((a) => a.ts)));
      m.alarms = restore(alarms);
      for (const a of alarms) if (a.deviceId) m.devices.set(a.deviceId, emptyFacts(a.deviceId));
    }
  }

  private monitor(patientId: string, now: number): PatientMonitor {
    let m = this.patients.get(patientId);
    if (!m) {
      m = {
        latest: EMPTY_LATEST,
        score: null,
        scoreKey: '',
        obsKey: '',
        trends: {},
        alarms: EMPTY_PATIENT_ALARMS,
        lastManualAt: null,
        firstSeenAt: now,
        devices: new Map(),
        evaluatedAt: 0,
      };
      this.patients.set(patientId, m);
    }
    return m;
  }

  /** Keep a device's facts with the patient it belongs to now (it may have been reassigned). */
  private factsOf(deviceId: string, patientId: string, now: number): DeviceFacts {
    const owner = this.deviceOwner.get(deviceId);
    if (owner !== undefined && owner !== patientId) this.patients.get(owner)?.devices.delete(deviceId);
    this.deviceOwner.set(deviceId, patientId);
    const m = this.monitor(patientId, now);
    let f = m.devices.get(deviceId);
    if (!f) m.devices.set(deviceId, (f = emptyFacts(deviceId)));
    return f;
  }

  /**
   * `backfill`: the reading came in a batch (a device flushing what it buffered offline): its age
   * says nothing about the device clock.
   */
  reading(r: Reading, now: number, battery?: number, backfill = false): EngineOutput {
    const out = emptyOutput();
    if (r.deviceId) {
      const prev = this.lastSeq.get(r.deviceId) ?? null;
      if (r.patientId) {
        const seen = { ts: backfill ? r.receivedAt : r.ts, receivedAt: r.receivedAt, values: r.values as Record<string, unknown>, seq: r.seq };
        let f = noteReading(this.factsOf(r.deviceId, r.patientId, now), seen, prev);
        if (battery !== undefined) f = noteBattery(f, battery, r.receivedAt);
        this.patients.get(r.patientId)!.devices.set(r.deviceId, f);
      }
      // Forward moves the counter; a late duplicate does not; a big step back is a device restart.
      if (r.seq !== undefined && (prev === null || r.seq > prev || r.seq < prev - SEQ_RESTART_DROP)) this.lastSeq.set(r.deviceId, r.seq);
    }
    if (!r.patientId) return out;
    const m = this.monitor(r.patientId, now);
    m.latest = mergeReading(m.latest, r);
    if (r.source === 'manual') m.lastManualAt = Math.max(m.lastManualAt ?? 0, r.ts);
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(r.values)) if (typeof v === 'number') numeric[k] = v;
    m.trends = updateTrends(m.trends, r.ts, numeric, this.cfg.trends);
    out.latest.push({ patientId: r.patientId, latest: m.latest });
    this.evaluate(r.patientId, m, now, out);
    return out;
  }

  deviceStatus(deviceId: string, patientId: string | null, status: 'online' | 'offline', now: number): EngineOutput {
    const out = emptyOutput();
    if (!patientId) return out;
    const f = this.factsOf(deviceId, patientId, now);
    const m = this.patients.get(patientId)!;
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
    return m ? observationDue(m.lastManualAt, m.firstSeenAt, m.score) : null;
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

  private evaluate(patientId: string, m: PatientMonitor, now: number, out: EngineOutput): void {
    try {
      m.evaluatedAt = now;
      const ctx = this.deps.context(patientId) ?? { spo2Scale: 1, limits: null };
      const values = freshValues(m.latest, now, this.cfg.freshness);
      const hasAny = Object.keys(values).length > 0;
      const score = hasAny ? scoreNews2(values, ctx.spo2Scale) : null;
      const obs = observationDue(m.lastManualAt, m.firstSeenAt, score);
      const scoreKey = score ? JSON.stringify(score) : '';
      const obsKey = `${obs.dueAt}|${obs.interval}`;
      if (score && (scoreKey !== m.scoreKey || obsKey !== m.obsKey)) out.scores.push({ patientId, ts: now, news2: score, observations: obs });
      m.score = score;
      m.scoreKey = scoreKey;
      m.obsKey = obsKey;

      const open: OpenView = {};
      for (const a of Object.values(m.alarms.open)) open[a.key] = { limit: a.limit, value: a.value, priority: a.priority };
      const conditions: Condition[] = [
        ...limitConditions(values, ctx.limits, open, this.cfg.limits),
        ...news2Conditions(score, open),
        ...trendConditions(m.trends, now, this.cfg.trends),
        ...technicalConditions([...m.devices.values()], now, this.cfg.technical),
      ];
      const due = obsDueCondition(obs, now);
      if (due) conditions.push(due);
      conditions.push(...this.withoutEvidence(m, values as Record<string, unknown>, conditions));
      const step = stepLifecycle(m.alarms, patientId, conditions, now, this.deps.newId, this.cfg.lifecycle);
      m.alarms = step.state;
      out.alarms.push(...step.changes);
      out.transitions.push(...step.transitions);
      out.escalations.push(...step.escalations);
    } catch (err) {
      // One patient's bad state must never stop monitoring for the others.
      this.deps.onError?.(err, patientId);
    }
  }
}
