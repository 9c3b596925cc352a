// Alarms leaving the server. The Socket.IO event maps themselves are in server/domain/events.ts.
import type { Alarm } from '../domain/alarms.ts';
import type { AlertEvent } from '../domain/events.ts';

/** Drops the engine's internal escalation timer before an alarm leaves the server. */
export function toAlertEvent(a: Alarm): AlertEvent {
  const { nextEscalationAt: _internal, ...ev } = a;
  return ev;
}
