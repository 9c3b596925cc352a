// What a dashboard needs on (re)subscribe: per patient the latest values with their times, the
// latest score and the open alarms. Fed by the pipeline's outputs; read by Socket.IO and REST.
import type { Alarm } from '../domain/alarms.ts';
import type { PatientSnapshot, ScoreEvent } from '../domain/events.ts';
import { DEFAULT_FRESHNESS, type Freshness } from '../domain/vitals.ts';
import { toAlertEvent } from './events.ts';
import { stampedValues, type LatestValues } from '../pipeline/latest.ts';

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

  /** The open alarm `id`, of whichever patient. */
  findOpenAlarm(id: string): Alarm | undefined {
    for (const open of this.alerts.values()) {
      const a = open.get(id);
      if (a) return a;
    }
    return undefined;
  }

  /**
   * The calls that rebuild this state's patients `which` accepts elsewhere (a cluster node that
   * joins asks the owners for their patients: server/cluster/bus.ts).
   */
  *replay(which: (patientId: string) => boolean): Iterable<[method: 'setLatest' | 'setScore' | 'applyAlert', args: unknown[]]> {
    for (const [id, latest] of this.latest) if (which(id)) yield ['setLatest', [id, latest]];
    for (const ev of this.scores.values()) if (which(ev.patientId)) yield ['setScore', [ev]];
    for (const [id, open] of this.alerts) if (which(id)) for (const a of open.values()) yield ['applyAlert', [a]];
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
