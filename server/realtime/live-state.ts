// What a dashboard needs on (re)subscribe: per patient the latest values with their times, the
// latest score and the open alarms. Fed by the pipeline's outputs; read by Socket.IO and REST.
import type { VitalKey, VitalValues } from '../pipeline/vitals.ts';
import type { News2Result } from '../pipeline/score/news2.ts';
import type { Alarm } from '../pipeline/alarms/model.ts';
import { toAlertEvent, type AlertEvent } from './events.ts';
import { DEFAULT_FRESHNESS, stampedValues, type Freshness, type LatestValues } from '../pipeline/latest.ts';

export interface ScoreEvent {
  patientId: string;
  ts: number;
  /** `partial` and `missing` say what the score lacks: a partial total is a lower bound. */
  news2: News2Result;
  /** RCP minimum monitoring frequency: when the next manual observation is due. */
  observations?: { dueAt: number | null; interval: number | 'continuous' };
  /**
   * When the last value this score was computed from goes stale (epoch ms). Past it, nothing the
   * score says is current: a display greys it out and shows its age (REST adds `stale`).
   */
  freshUntil?: number;
  /** The newest measurement (min of measurement and receipt time) the score was computed from: its age counts from here. */
  dataAt?: number;
  /** How long a manual observation recorded now counts for this patient, ms (its RCP monitoring interval). */
  manualWindowMs?: number;
  /** Per parameter, how long its current manual value counts, ms (narrowed since it was recorded). */
  manualWindows?: Partial<Record<VitalKey, number>>;
  /** The last full set of manual observations (all seven parameters), epoch ms. */
  lastFullSetAt?: number | null;
  /** The values scored: streamed device values (HR, SpO2, RR) as the median of their last minute. */
  scored?: VitalValues;
}

export interface PatientSnapshot {
  patientId: string;
  /** Per parameter: value, measurement time `ts`, `at` = min(ts, receipt) that its age counts from, source. */
  values: Partial<Record<VitalKey, { value: unknown; ts: number; at: number; source: string }>>;
  score: ScoreEvent | null;
  alerts: AlertEvent[];
  devices: { id: string; status: 'online' | 'offline' | 'unknown' }[];
}

export class LiveState {
  constructor(private readonly freshness: Freshness = DEFAULT_FRESHNESS) {}

  private readonly latest = new Map<string, LatestValues>();
  private readonly scores = new Map<string, ScoreEvent>();
  private readonly alerts = new Map<string, Map<string, Alarm>>();
  private readonly deviceStatus = new Map<string, 'online' | 'offline'>();

  setLatest(patientId: string, latest: LatestValues): void {
    this.latest.set(patientId, latest);
  }

  setScore(ev: ScoreEvent): void {
    this.scores.set(ev.patientId, ev);
  }

  score(patientId: string): ScoreEvent | null {
    return this.scores.get(patientId) ?? null;
  }

  applyAlert(a: Alarm): void {
    let open = this.alerts.get(a.patientId);
    if (!open) this.alerts.set(a.patientId, (open = new Map()));
    if (a.state === 'resolved') open.delete(a.id);
    else open.set(a.id, a);
  }

  activeAlerts(patientId: string): Alarm[] {
    return [...(this.alerts.get(patientId)?.values() ?? [])];
  }

  setDeviceStatus(deviceId: string, status: 'online' | 'offline'): void {
    this.deviceStatus.set(deviceId, status);
  }

  deviceStatusOf(deviceId: string): 'online' | 'offline' | 'unknown' {
    return this.deviceStatus.get(deviceId) ?? 'unknown';
  }

  /** The freshness windows that hold for this patient now (the manual one follows its score). */
  freshnessOf(patientId: string): Freshness {
    const manual = this.scores.get(patientId)?.manualWindows;
    return manual === undefined ? this.freshness : { ...this.freshness, manualByKey: manual };
  }

  /** The base freshness windows, as displays must apply them. */
  get windows(): Freshness {
    return this.freshness;
  }

  snapshot(patientId: string, deviceIds: string[]): PatientSnapshot {
    const latest = this.latest.get(patientId);
    return {
      patientId,
      values: latest ? stampedValues(latest, Date.now(), this.freshnessOf(patientId)) : {},
      score: this.score(patientId),
      alerts: this.activeAlerts(patientId).map(toAlertEvent),
      devices: deviceIds.map((id) => ({ id, status: this.deviceStatusOf(id) })),
    };
  }
}
