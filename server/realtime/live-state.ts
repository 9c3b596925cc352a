// What a dashboard needs on (re)subscribe: per patient the latest values with their times, the
// latest score and the open alarms. Fed by the pipeline's outputs; read by Socket.IO and REST.
import type { VitalKey } from '../pipeline/vitals.ts';
import type { ScoreUpdate } from '../pipeline/alarms/engine.ts';
import type { Alarm } from '../pipeline/alarms/model.ts';
import { toAlertEvent, type AlertEvent } from './events.ts';
import { DEFAULT_FRESHNESS, stampedValues, type Freshness, type LatestValues } from '../pipeline/latest.ts';

/**
 * A score as dashboards and REST see it: the engine's update (`ScoreUpdate`: `news2` with
 * `partial`/`missing`, the observations due, `freshUntil`, `dataAt`, the manual windows, the last
 * full set, the values scored). A score read back from the database has only the first three.
 */
export type ScoreEvent = Pick<ScoreUpdate, 'patientId' | 'ts' | 'news2'> & Partial<Omit<ScoreUpdate, 'patientId' | 'ts' | 'news2'>>;

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
