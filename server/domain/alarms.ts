// The alarm model (IEC 60601-1-8 priorities), shared by the rules, the lifecycle state machine,
// the database and the dashboard, and the alarm limits of a patient. Types and constants only.
import type { NumericVital } from './vitals.ts';

export const ALARM_PRIORITIES = ['high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];
export const ALARM_CATEGORIES = ['physiological', 'technical'] as const;
export type AlarmCategory = (typeof ALARM_CATEGORIES)[number];
/** active → (acknowledged | silenced) → resolved; see server/pipeline/alarms/lifecycle.ts for the legal transitions. */
export const ALARM_STATES = ['active', 'acknowledged', 'silenced', 'resolved'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
export const ALARM_KINDS = ['limit', 'news2', 'trend', 'device-offline', 'sensor-off', 'artifact', 'seq-gap', 'battery', 'clock-skew', 'obs-due', 'lab-critical'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const PRIORITY_RANK: Readonly<Record<AlarmPriority, number>> = { low: 1, medium: 2, high: 3 };

/**
 * What the rules say is true for a patient *now*: one candidate alarm. The lifecycle turns
 * conditions into alarms (delay, latching, silence, acknowledgement, escalation).
 */
export interface Condition {
  /** Deduplication key: one open alarm per patient and key, e.g. `limit:hr`, `news2:total`. */
  key: string;
  kind: AlarmKind;
  category: AlarmCategory;
  priority: AlarmPriority;
  parameter: string | null;
  value: number | null;
  /** The crossed limit or the rule's threshold. */
  limit: number | null;
  /** Human-readable rule, e.g. "hr > 120 for 10 s", "NEWS2 ≥ 7". */
  rule: string;
  message: string;
  /** How long the condition must hold before the alarm fires (0 = at once). */
  delayMs: number;
  /** The device the condition is about (technical alarms). */
  deviceId?: string | null;
}

/** An alarm carries the description of the condition that raised it, and its lifecycle. */
export interface Alarm extends Pick<Condition, 'key' | 'kind' | 'category' | 'priority' | 'parameter' | 'value' | 'limit' | 'rule' | 'message'> {
  id: string;
  patientId: string;
  state: AlarmState;
  /** Start (when it fired), epoch ms. */
  ts: number;
  /** When it was resolved, epoch ms. */
  endedAt: number | null;
  updatedAt: number;
  /** The condition still holds (a latched alarm can outlive its condition). */
  conditionActive: boolean;
  /** Stays visible after its condition clears until someone acknowledges it. */
  latching: boolean;
  silencedUntil: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  /**
   * The alarm's value when it was acknowledged (for NEWS2, the total), moved up each time a rise
   * of 2 or more since then was pushed as news. Null unless acknowledged.
   */
  acknowledgedValue: number | null;
  /** 0 = first notification; each unacknowledged re-notification escalates one level. */
  escalationLevel: number;
  nextEscalationAt: number | null;
  deviceId: string | null;
}

/** One entry of the append-only audit trail of an alarm. */
export interface Transition {
  alarmId: string;
  patientId: string;
  from: AlarmState | null;
  to: AlarmState;
  at: number;
  /** User id, or null for the system. */
  by: string | null;
  byRole: string | null;
  /** Why: a user's comment, or the system's reason ("condition cleared", "silence expired"). */
  comment: string | null;
}

/** The operator actions, in the order a dashboard offers them. */
export const ALARM_ACTIONS = ['ack', 'silence', 'resolve'] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

export interface Actor {
  id: string;
  role: string;
}

/** A notification the escalation policy wants delivered. */
export interface Escalation {
  alarm: Alarm;
  level: number;
  /** The role to notify at this level (last role repeats). */
  role: string;
  at: number;
}

/** A patient's alarm limit for one vital; a value equal to a limit is inside it. */
export interface Bound {
  low?: number;
  high?: number;
}
/** A patient's overrides of the default limits (server/pipeline/score/limits.ts). */
export type AlarmLimits = Partial<Record<NumericVital, Bound>>;
