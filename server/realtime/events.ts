// Socket.IO event maps, typed once and shared by the server and the dashboard (`import type`).
import type { VitalsEvent } from '../pipeline/operators.ts';
import type { ScoreEvent, PatientSnapshot } from './live-state.ts';
import type { AlertPriority, AlertState } from '../pipeline/alarms/rules.ts';

export type { VitalsEvent, ScoreEvent, PatientSnapshot };

export interface AlertEvent {
  id: string;
  patientId: string;
  kind: string;
  category: 'physiological' | 'technical';
  parameter: string | null;
  value: number | null;
  /** The crossed limit, or the NEWS2 threshold of the band. */
  limit: number | null;
  priority: AlertPriority;
  state: AlertState;
  message: string;
  /** Start time, epoch ms. */
  ts: number;
  endedAt: number | null;
  updatedAt: number;
}

export interface DeviceStatusEvent {
  deviceId: string;
  patientId: string | null;
  status: 'online' | 'offline';
  ts: number;
}

export type SubscribeRequest = { ward: string } | { patientId: string };

export type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export interface SubscribeResult {
  /** The room joined: `ward:{ward}` or `patient:{id}`. */
  room: string;
  patients: (PatientSnapshot & { name: string; ward: string; bed: string | null })[];
}

export interface ServerToClientEvents {
  /** Coalesced per tick: one message per subscription per tick, one entry per patient. */
  vitals: (batch: VitalsEvent[]) => void;
  score: (ev: ScoreEvent) => void;
  alert: (ev: AlertEvent) => void;
  device: (ev: DeviceStatusEvent) => void;
}

export interface ClientToServerEvents {
  subscribe: (req: SubscribeRequest, ack: (res: Ack<SubscribeResult>) => void) => void;
  unsubscribe: (req: SubscribeRequest, ack?: (res: Ack<{ room: string }>) => void) => void;
}
