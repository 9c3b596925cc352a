// Stream wiring of the monitoring pipeline, as small named RxJS operators. No I/O and no
// Promises in here: the database and Socket.IO are sinks at the edge (server/server.ts), and time
// comes from an injectable scheduler so the operators are marble-tested under virtual time.
import {
  asyncScheduler,
  bufferTime,
  filter,
  groupBy,
  map,
  mergeMap,
  scan,
  type OperatorFunction,
  type SchedulerLike,
} from 'rxjs';
import type { Reading, VitalValues } from './vitals.ts';
import { EMPTY_LATEST, freshValues, mergeReading, type Freshness, type LatestValues } from './latest.ts';
import { scoreNews2, type News2Result } from './score/news2.ts';
import { EMPTY_ALARM_STATE, stepAlarms, type Alert, type AlarmState } from './alarms/rules.ts';
import type { AlarmLimits } from './score/limits.ts';

export interface PatientContext {
  spo2Scale: 1 | 2;
  limits: AlarmLimits | null;
}

export interface VitalsEvent {
  patientId: string;
  deviceId: string | null;
  /** Measurement time of the newest reading in the tick, epoch ms. */
  ts: number;
  values: VitalValues;
}

export interface PatientUpdate {
  patientId: string;
  /** Evaluation time, epoch ms. */
  ts: number;
  latest: LatestValues;
  score: News2Result;
  /** The score differs from the previous one (total, band, partial flag or a sub-score). */
  scoreChanged: boolean;
  alerts: Alert[];
}

export interface ScoringDeps {
  context(patientId: string): PatientContext | undefined;
  freshness: Freshness;
  newId(): string;
  /** Alarms still open from before a restart, so they are resolved, not orphaned. */
  initialAlarms?(patientId: string): AlarmState;
  onError?(err: unknown, reading: Reading): void;
  scheduler?: SchedulerLike;
}

/**
 * Coalesce readings per patient over one tick: a busy ward sends a few messages per second to
 * dashboards, not one per reading. One timer for all patients.
 */
export function coalesceVitals(tickMs: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<Reading, VitalsEvent[]> {
  return (source) =>
    source.pipe(
      filter((r) => r.patientId !== null),
      bufferTime(tickMs, scheduler),
      filter((batch) => batch.length > 0),
      map(mergeTick),
    );
}

export function mergeTick(batch: Reading[]): VitalsEvent[] {
  const byPatient = new Map<string, VitalsEvent>();
  for (const r of batch) {
    const id = r.patientId!;
    const ev = byPatient.get(id);
    if (!ev) {
      byPatient.set(id, { patientId: id, deviceId: r.deviceId, ts: r.ts, values: { ...r.values } });
    } else if (r.ts >= ev.ts) {
      ev.values = { ...ev.values, ...r.values };
      ev.ts = r.ts;
      ev.deviceId = r.deviceId;
    } else {
      ev.values = { ...r.values, ...ev.values };
    }
  }
  return [...byPatient.values()];
}

function sameScore(a: News2Result | null, b: News2Result): boolean {
  if (!a) return false;
  if (a.total !== b.total || a.band !== b.band || a.partial !== b.partial) return false;
  for (const k of Object.keys(b.parameters) as (keyof News2Result['parameters'])[]) {
    if (a.parameters[k] !== b.parameters[k]) return false;
  }
  return true;
}

interface PatientAcc {
  latest: LatestValues;
  alarms: AlarmState;
  score: News2Result | null;
  update: PatientUpdate | null;
}

/**
 * Per patient: merge the latest value of each parameter from every device and manual
 * observation, score NEWS2 from the fresh ones, and step the alarm rules.
 * Readings of unassigned devices are not scored.
 */
export function scorePatients(deps: ScoringDeps): OperatorFunction<Reading, PatientUpdate> {
  const scheduler = deps.scheduler ?? asyncScheduler;
  return (source) =>
    source.pipe(
      filter((r): r is Reading & { patientId: string } => r.patientId !== null),
      groupBy((r) => r.patientId),
      mergeMap((group) =>
        group.pipe(
          scan<Reading & { patientId: string }, PatientAcc>(
            (acc, reading) => {
              try {
                return stepPatient(acc, reading, deps, scheduler.now());
              } catch (err) {
                // One patient's bad state must never stop the stream for the others.
                deps.onError?.(err, reading);
                return { ...acc, update: null };
              }
            },
            { latest: EMPTY_LATEST, alarms: deps.initialAlarms?.(group.key) ?? EMPTY_ALARM_STATE, score: null, update: null },
          ),
          map((acc) => acc.update),
          filter((u): u is PatientUpdate => u !== null),
        ),
      ),
    );
}

function stepPatient(acc: PatientAcc, reading: Reading & { patientId: string }, deps: ScoringDeps, now: number): PatientAcc {
  const ctx = deps.context(reading.patientId) ?? { spo2Scale: 1, limits: null };
  const latest = mergeReading(acc.latest, reading);
  const values = freshValues(latest, now, deps.freshness);
  const score = scoreNews2(values, ctx.spo2Scale);
  const { state: alarms, changes } = stepAlarms(
    acc.alarms,
    { patientId: reading.patientId, now, values, score, limits: ctx.limits },
    deps.newId,
  );
  const scoreChanged = !sameScore(acc.score, score);
  return {
    latest,
    alarms,
    score,
    update: { patientId: reading.patientId, ts: now, latest, score, scoreChanged, alerts: changes },
  };
}
