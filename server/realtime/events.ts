// Socket.IO event maps, typed once and shared by the server and the dashboard (`import type`).
import type { VitalsEvent } from '../pipeline/operators.ts';
import type { ScoreEvent, PatientSnapshot } from './live-state.ts';
import type { Alarm } from '../pipeline/alarms/model.ts';
import type { Freshness } from '../pipeline/latest.ts';

export type { VitalsEvent, ScoreEvent, PatientSnapshot };

/** An alarm as the dashboard (and a webhook) sees it (see server/pipeline/alarms/model.ts). */
export type AlertEvent = Omit<Alarm, 'nextEscalationAt'>;

/** Drops the engine's internal escalation timer before an alarm leaves the server. */
export function toAlertEvent(a: Alarm): AlertEvent {
  const { nextEscalationAt: _internal, ...ev } = a;
  return ev;
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
