// What a dashboard needs on (re)subscribe: per patient the latest values with their times, the
// latest score and the open alarms. Fed by the pipeline's outputs; read by Socket.IO and REST.
import type { VitalKey } from '../pipeline/vitals.ts';
import type { News2Result } from '../pipeline/score/news2.ts';
import type { Alarm } from '../pipeline/alarms/model.ts';
import { toAlertEvent, type AlertEvent } from './events.ts';
import { stampedValues, type LatestValues } from '../pipeline/latest.ts';

export interface ScoreEvent {
  patientId: string;
  ts: number;
  news2: News2Result;
  /** RCP minimum monitoring frequency: when the next manual observation is due. */
  observations?: { dueAt: number | null; interval: number | 'continuous' };
}

export interface PatientSnapshot {
  patientId: string;
  values: Partial<Record<VitalKey, { value: unknown; ts: number; source: string }>>;
  score: ScoreEvent | null;
  alerts: AlertEvent[];
  devices: { id: string; status: 'online' | 'offline' | 'unknown' }[];
}

export class LiveState {
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

  snapshot(patientId: string, deviceIds: string[]): PatientSnapshot {
    const latest = this.latest.get(patientId);
    return {
      patientId,
      values: latest ? stampedValues(latest) : {},
      score: this.score(patientId),
      alerts: this.activeAlerts(patientId).map(toAlertEvent),
      devices: deviceIds.map((id) => ({ id, status: this.deviceStatusOf(id) })),
    };
  }
}
