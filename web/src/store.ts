// Client-side live state of the patients on screen. Events are applied as they arrive, but views
// are told once per animation frame: a 64-bed ward updating every second re-renders each changed
// tile at most once per frame. Each changed patient gets a new view object (cheap change checks).
import type {
  AlertEvent,
  DeviceStatusEvent,
  EscalationEvent,
  PatientSnapshot,
  ScoreEvent,
  SubscribeResult,
  VitalsEvent,
} from '../../server/domain/index.ts';
import { ASSESSMENT_VITALS, DEFAULT_FRESHNESS, NUMERIC_VITALS, type VitalKey } from '../../server/domain/index.ts';
import { isStale, manualWindowOf, type DisplayFreshness } from './logic/freshness.ts';

const ASSESSMENTS: ReadonlySet<string> = new Set(ASSESSMENT_VITALS);

export interface Stamped {
  value: number | string | boolean;
  ts: number;
  /** min(measurement, receipt) time: the value's age counts from here. */
  at?: number;
  source: string;
}

export interface Point {
  ts: number;
  v: number;
}

export interface PatientView {
  id: string;
  name: string;
  ward: string;
  bed: string | null;
  values: Partial<Record<VitalKey, Stamped>>;
  score: ScoreEvent | null;
  alerts: AlertEvent[];
  devices: { id: string; status: string }[];
  /** Recent points per numeric vital (SPARK_WINDOW_MS), oldest first. Shared, appended in place. */
  recent: Partial<Record<VitalKey, Point[]>>;
  /** Bumped on every change. */
  rev: number;
}

export const SPARK_WINDOW_MS = 10 * 60_000;

type Listener = (changed: ReadonlySet<string>) => void;

export class LiveStore {
  readonly patients = new Map<string, PatientView>();
  /** The latest escalation per open alarm id: the level and the role it went to. */
  readonly escalations = new Map<string, Pick<EscalationEvent, 'level' | 'role' | 'at'>>();
  /** The server's freshness windows (from the last subscription): values grey out when the server stops scoring them. */
  freshness: DisplayFreshness = DEFAULT_FRESHNESS;
  private readonly listeners = new Set<Listener>();
  private readonly dirty = new Set<string>();
  private frame: number | null = null;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private touch(id: string, next: PatientView): void {
    next.rev++;
    this.patients.set(id, next);
    this.dirty.add(id);
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = null;
    const changed = new Set(this.dirty);
    this.dirty.clear();
    for (const fn of this.listeners) fn(changed);
  }

  applySnapshot(result: SubscribeResult): void {
    if (result.freshness) this.freshness = result.freshness;
    for (const p of result.patients) {
      const prev = this.patients.get(p.patientId);
      const view: PatientView = {
        id: p.patientId,
        name: p.name,
        ward: p.ward ?? "",
        bed: p.bed,
        values: fromSnapshot(p.values),
        score: p.score,
        alerts: p.alerts,
        devices: p.devices,
        recent: prev?.recent ?? {},
        rev: prev?.rev ?? 0,
      };
      for (const k of NUMERIC_VITALS) {
        const s = view.values[k];
        if (s && typeof s.value === 'number') pushPoint(view.recent, k, s.ts, s.value);
      }
      this.touch(p.patientId, view);
    }
  }

  applyVitals(batch: VitalsEvent[]): void {
    for (const ev of batch) {
      const prev = this.patients.get(ev.patientId);
      if (!prev) continue;
      const values = { ...prev.values };
      const source = ev.source ?? 'device';
      const now = Date.now();
      for (const [k, v] of Object.entries(ev.values) as [VitalKey, number | string | boolean][]) {
        const cur = values[k];
        if (cur) {
          // Consciousness and oxygen are assessments: a nurse's fresh value wins over a device's,
          // newer or not, as in the score; otherwise the newest value wins.
          const assessment = ASSESSMENTS.has(k);
          if (assessment && cur.source === 'manual' && source !== 'manual' && !isStale(cur, k, now, this.freshness, manualWindowOf(prev.score, k))) continue;
          if (cur.ts > ev.ts && !(assessment && source === 'manual' && cur.source !== 'manual')) continue;
        }
        values[k] = { value: v, ts: ev.ts, at: ev.at ?? ev.ts, source };
        if (typeof v === 'number') pushPoint(prev.recent, k, ev.ts, v);
      }
      // A reading proves its device is sending.
      const devices = ev.deviceId ? prev.devices.map((d) => (d.id === ev.deviceId ? { ...d, status: 'online' } : d)) : prev.devices;
      this.touch(ev.patientId, { ...prev, values, devices });
    }
  }

  /** Merge back-filled history points (from the REST API) into the recent buffers. */
  applyHistory(patientId: string, rows: { ts: string; values: Record<string, unknown> }[]): void {
    const prev = this.patients.get(patientId);
    if (!prev) return;
    for (const row of rows) {
      const ts = Date.parse(row.ts);
      for (const k of NUMERIC_VITALS) {
        const v = row.values[k];
        if (typeof v === 'number') pushPoint(prev.recent, k, ts, v);
      }
    }
    this.touch(patientId, { ...prev });
  }

  applyScore(ev: ScoreEvent): void {
    const prev = this.patients.get(ev.patientId);
    if (!prev || (prev.score && prev.score.ts > ev.ts)) return;
    // A score without the observations schedule keeps the last one known.
    const score = ev.observations === undefined && prev.score?.observations ? { ...ev, observations: prev.score.observations } : ev;
    this.touch(ev.patientId, { ...prev, score });
  }

  applyAlert(ev: AlertEvent): void {
    const prev = this.patients.get(ev.patientId);
    if (!prev) return;
    // The answer to our own command and the room's push carry the same change; never step back.
    const known = prev.alerts.find((a) => a.id === ev.id);
    if (known && known.updatedAt > ev.updatedAt) return;
    const others = prev.alerts.filter((a) => a.id !== ev.id);
    const alerts = ev.state === 'resolved' ? others : [...others, ev];
    if (ev.state === 'resolved') this.escalations.delete(ev.id);
    this.touch(ev.patientId, { ...prev, alerts });
  }

  applyEscalation(ev: EscalationEvent): void {
    const { alarm, level, role, at } = ev;
    if (alarm.state === 'resolved') return;
    this.escalations.set(alarm.id, { level, role, at });
    this.applyAlert(alarm);
  }

  applyDevice(ev: DeviceStatusEvent): void {
    if (!ev.patientId) return;
    const prev = this.patients.get(ev.patientId);
    if (!prev) return;
    const known = prev.devices.some((d) => d.id === ev.deviceId);
    const devices = known
      ? prev.devices.map((d) => (d.id === ev.deviceId ? { ...d, status: ev.status } : d))
      : [...prev.devices, { id: ev.deviceId, status: ev.status }];
    this.touch(ev.patientId, { ...prev, devices });
  }

  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      for (const a of this.patients.get(id)?.alerts ?? []) this.escalations.delete(a.id);
      this.patients.delete(id);
    }
  }
}

function fromSnapshot(values: PatientSnapshot['values']): PatientView['values'] {
  const out: PatientView['values'] = {};
  for (const [k, v] of Object.entries(values) as [VitalKey, { value: unknown; ts: number; at?: number; source: string }][]) {
    out[k] = { value: v.value as Stamped['value'], ts: v.ts, at: v.at ?? v.ts, source: v.source };
  }
  return out;
}

/** Insert in time order, drop duplicates and what fell out of the window. */
export function pushPoint(recent: Partial<Record<VitalKey, Point[]>>, k: VitalKey, ts: number, v: number): void {
  const list = (recent[k] ??= []);
  const last = list[list.length - 1];
  if (!last || last.ts < ts) list.push({ ts, v });
  else {
    let i = list.length - 1;
    while (i >= 0 && list[i]!.ts > ts) i--;
    if (i >= 0 && list[i]!.ts === ts) return;
    list.splice(i + 1, 0, { ts, v });
  }
  const cutoff = list[list.length - 1]!.ts - SPARK_WINDOW_MS;
  let drop = 0;
  while (drop < list.length && list[drop]!.ts < cutoff) drop++;
  if (drop > 0) list.splice(0, drop);
}
