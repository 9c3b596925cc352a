// The wire protocol between the server and the dashboards: Socket.IO event maps and the events
// they carry, typed once (the server's io.ts and the dashboard's realtime.ts both use them).
import type { Alarm } from './alarms.ts';
import type { News2Result, ObservationsDue } from './news2.ts';
import type { Freshness, Reading, VitalKey, VitalValues } from './vitals.ts';

/** The readings of one patient coalesced over one tick (server/pipeline/operators.ts). */
export interface VitalsEvent {
  patientId: string;
  deviceId: string | null;
  /** Measurement time of the newest reading in the tick, epoch ms. */
  ts: number;
  /** min(ts, receipt time) of that reading: its age counts from here (a fast device clock cannot keep it fresh). */
  at: number;
  /** Device readings and manual observations are coalesced apart: they age differently. */
  source: Reading['source'];
  values: VitalValues;
}

/** A new or changed score of a patient, as the monitoring engine computes it. */
export interface ScoreUpdate {
  patientId: string;
  ts: number;
  news2: News2Result;
  observations: ObservationsDue;
  /** When the last of the values this score was computed from goes stale (epoch ms). */
  freshUntil: number;
  /** The newest `at` (min of measurement and receipt time) among those values: the score's age counts from here. */
  dataAt: number;
  /** The patient's RCP monitoring interval now: how long a manual observation recorded now counts. */
  manualWindowMs: number;
  /** Per parameter, how long its manual value counts (narrowed since it was recorded). */
  manualWindows: Partial<Record<VitalKey, number>>;
  /** Time of the last full set of manual observations (all seven parameters), if any. */
  lastFullSetAt: number | null;
  /** The values the score was computed from (streamed device values as their 1-minute median). */
  scored: VitalValues;
}

/**
 * A score as dashboards and REST see it: the engine's update (`ScoreUpdate`: `news2` with
 * `partial`/`missing`, the observations due, `freshUntil`, `dataAt`, the manual windows, the last
 * full set, the values scored). A score read back from the database has only the first three.
 */
export type ScoreEvent = Pick<ScoreUpdate, 'patientId' | 'ts' | 'news2'> & Partial<Omit<ScoreUpdate, 'patientId' | 'ts' | 'news2'>>;

/** An alarm as the dashboard (and a webhook) sees it: without the engine's escalation timer. */
export type AlertEvent = Omit<Alarm, 'nextEscalationAt'>;

/** What a dashboard gets per patient on (re)subscribe (server/realtime/live-state.ts). */
export interface PatientSnapshot {
  patientId: string;
  /** Per parameter: value, measurement time `ts`, `at` = min(ts, receipt) that its age counts from, source. */
  values: Partial<Record<VitalKey, { value: unknown; ts: number; at: number; source: string }>>;
  score: ScoreEvent | null;
  alerts: AlertEvent[];
  devices: { id: string; status: 'online' | 'offline' | 'unknown' }[];
}

export interface EscalationEvent {
  alarm: AlertEvent;
  /** 1 = first re-notification; the role grows with the level. */
  level: number;
  role: string;
  at: number;
}

export interface AlarmCommand {
  id: string;
  comment?: string;
}

export interface DeviceStatusEvent {
  deviceId: string;
  patientId: string | null;
  status: 'online' | 'offline';
  ts: number;
}

/** `{ queue: doctorId }`: the waiting-room display of one doctor (room `queue:{doctorId}`). */
export type SubscribeRequest = { ward: string } | { patientId: string } | { queue: string };

/** A token called to the doctor's room: shown and announced by the queue display. */
export interface QueueCalledEvent {
  doctorId: string;
  room: string | null;
  /** The day of the queue, 'YYYY-MM-DD' on the hospital's clock. */
  date: string;
  tokenNumber: number;
  /** First name and initial only: it is shown on a screen in a waiting room. */
  patientName: string;
  /** ISO 8601. */
  calledAt: string;
}

/** The queue of one doctor today: the last call and how many are still waiting. */
export interface QueueState {
  doctorId: string;
  doctorName: string;
  room: string | null;
  date: string;
  current: QueueCalledEvent | null;
  waiting: number;
}

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export interface SubscribeResult {
  /** The room joined: `ward:{ward}` or `patient:{id}`. */
  room: string;
  /**
   * The server's freshness windows (ms): a display greys a value exactly when the server stops
   * scoring it — streamed device values after `deviceMs`, intermittent ones after
   * `intermittentMs`, manual ones after the patient's `ScoreEvent.manualWindows[parameter]` (at
   * most `manualMs`). Ages count from a value's `at`.
   */
  freshness?: Freshness;
  patients: (PatientSnapshot & { name: string; ward: string | null; bed: string | null })[];
  /** For a `{ queue }` subscription (then `patients` is empty). */
  queue?: QueueState;
}

export interface ServerToClientEvents {
  /** Coalesced per tick: one message per subscription per tick, one entry per patient. */
  vitals: (batch: VitalsEvent[]) => void;
  score: (ev: ScoreEvent) => void;
  alert: (ev: AlertEvent) => void;
  escalation: (ev: EscalationEvent) => void;
  device: (ev: DeviceStatusEvent) => void;
  /** To room `queue:{doctorId}`: the doctor called the next token. */
  'queue:called': (ev: QueueCalledEvent) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: Ack<SubscribeResult>) => void) => void;
  unsubscribe: (req: SubscribeRequest, ack?: (res: Ack<{ room: string }>) => void) => void;
  /** Acknowledge, silence or resolve an alarm (nurses and doctors). */
  'alarm:ack': (cmd: AlarmCommand, ack: (res: Ack<AlertEvent>) => void) => void;
  'alarm:silence': (cmd: AlarmCommand, ack: (res: Ack<AlertEvent>) => void) => void;
  'alarm:resolve': (cmd: AlarmCommand, ack: (res: Ack<AlertEvent>) => void) => void;
}
