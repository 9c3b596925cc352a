// The alarm lifecycle of one patient (IEC 60601-1-8 style, central station): a pure state machine
// from the conditions the rules find *now* to alarms with an alarm condition delay, latching,
// silence (audio paused), acknowledgement and escalation. No I/O and no clock: the caller passes
// `now`, persists `changes` and `transitions`, and delivers `escalations`.
//
//   (pending) ──delay──▶ active ──ack──▶ acknowledged ──condition cleared──▶ resolved
//                          │ ▲                │
//                  silence │ │ silence expired │ silence
//                          ▼ │                ▼
//                        silenced ◀───────────┘
//
// A latching alarm (high priority, physiological) outlives its condition until someone
// acknowledges or resolves it; every other alarm resolves when its condition clears.
import type { Actor, Alarm, AlarmAction, AlarmState, Condition, Escalation, Transition } from './model.ts';

export interface LifecycleConfig {
  /** How long a silence (audio paused) lasts. */
  silenceMs: number;
  /** An unacknowledged high-priority alarm re-notifies after this, escalating one level each time. */
  escalateAfterMs: number;
  /** The role notified at each level: level 0 → roles[0], level 1 → roles[1], beyond → the last role. */
  escalationRoles: string[];
}

export const DEFAULT_LIFECYCLE: LifecycleConfig = Object.freeze({
  silenceMs: 120_000,
  escalateAfterMs: 60_000,
  escalationRoles: Object.freeze(['nurse', 'doctor']) as string[],
});

export interface PatientAlarms {
  /** Conditions waiting out their delay: condition key → since (epoch ms). */
  pending: Record<string, number>;
  /** Open (not resolved) alarms by condition key: at most one per key. */
  open: Record<string, Alarm>;
}

export const EMPTY_PATIENT_ALARMS: PatientAlarms = Object.freeze({
  pending: Object.freeze({}) as Record<string, number>,
  open: Object.freeze({}) as Record<string, Alarm>,
});

export interface StepResult {
  state: PatientAlarms;
  /** Alarms that were opened, changed in a way worth pushing, or resolved (final version, once each). */
  changes: Alarm[];
  transitions: Transition[];
  escalations: Escalation[];
}

export type ActionResult =
  | { ok: true; state: PatientAlarms; alarm: Alarm; transitions: Transition[] }
  | { ok: false; code: 'ERR_NOT_FOUND' | 'ERR_ILLEGAL_TRANSITION'; message: string };

/** High-priority physiological alarms latch: they stay until acknowledged even if the condition clears. */
export function latches(c: Pick<Condition, 'priority' | 'category'>): boolean {
  return c.priority === 'high' && c.category === 'physiological';
}

/**
 * One step for one patient. `conditions` is the complete set of conditions holding at `now`
 * (unique keys); anything not in it has cleared. Never mutates `state`.
 */
export function stepLifecycle(
  state: PatientAlarms,
  patientId: string,
  conditions: Condition[],
  now: number,
  newId: () => string,
  cfg: LifecycleConfig = DEFAULT_LIFECYCLE,
): StepResult {
  const open: Record<string, Alarm> = { ...state.open };
  const pending: Record<string, number> = {};
  // Keyed by alarm id so an alarm touched by several rules in one step is pushed once, last version.
  const changed = new Map<string, Alarm>();
  const transitions: Transition[] = [];
  const escalations: Escalation[] = [];
  const system = (alarm: Alarm, from: AlarmState | null, to: AlarmState, comment: string): void => {
    transitions.push({ alarmId: alarm.id, patientId: alarm.patientId, from, to, at: now, by: null, byRole: null, comment });
  };

  const holding = new Set<string>();
  for (const c of conditions) {
    holding.add(c.key);
    const current = open[c.key];
    if (current) {
      const next = updateFromCondition(current, c, now, cfg);
      open[c.key] = next;
      if (worthPushing(current, next)) changed.set(next.id, next);
      continue;
    }
    // Rule 1 — alarm condition delay: the condition must hold for delayMs before the alarm fires,
    // so a brief excursion (e.g. a motion artefact) never alarms.
    const since = state.pending[c.key] ?? now;
    if (now - since < c.delayMs) {
      pending[c.key] = since;
      continue;
    }
    const alarm = fire(c, patientId, now, newId(), cfg);
    open[c.key] = alarm;
    changed.set(alarm.id, alarm);
    system(alarm, null, 'active', `condition met: ${c.rule}`);
  }
  // Pending keys whose condition is gone are simply not carried over: it did not hold long enough.

  // Rule 3 — the condition cleared.
  for (const [key, current] of Object.entries(open)) {
    if (holding.has(key)) continue;
    if (current.latching && current.state !== 'acknowledged') {
      if (current.conditionActive) {
        const next: Alarm = { ...current, conditionActive: false, updatedAt: now };
        open[key] = next;
        changed.set(next.id, next);
      }
      continue;
    }
    const resolved: Alarm = { ...current, state: 'resolved', conditionActive: false, endedAt: now, updatedAt: now };
    delete open[key];
    changed.set(resolved.id, resolved);
    system(resolved, current.state, 'resolved', 'condition cleared');
  }

  // Rule 4 — silence (audio paused) expiry: the alarm sounds again and, if high, the escalation clock restarts.
  for (const [key, current] of Object.entries(open)) {
    if (current.state !== 'silenced' || current.silencedUntil === null || current.silencedUntil > now) continue;
    const next: Alarm = {
      ...current,
      state: 'active',
      silencedUntil: null,
      nextEscalationAt: current.priority === 'high' ? now + cfg.escalateAfterMs : null,
      updatedAt: now,
    };
    open[key] = next;
    changed.set(next.id, next);
    system(next, 'silenced', 'active', 'silence expired');
  }

  // Rule 5 — escalation: an active high-priority alarm nobody has acknowledged re-notifies one level up.
  // A late step escalates once, not once per missed period: each level is a notification to deliver.
  for (const [key, current] of Object.entries(open)) {
    if (current.priority !== 'high' || current.state !== 'active') continue;
    if (current.nextEscalationAt === null || current.nextEscalationAt > now) continue;
    const level = current.escalationLevel + 1;
    const next: Alarm = { ...current, escalationLevel: level, nextEscalationAt: now + cfg.escalateAfterMs, updatedAt: now };
    open[key] = next;
    changed.set(next.id, next);
    escalations.push({ alarm: next, level, role: roleFor(level, cfg), at: now });
  }

  return { state: { pending, open }, changes: [...changed.values()], transitions, escalations };
}

/** An operator's action on an open alarm. Never mutates `state`. */
export function applyAction(
  state: PatientAlarms,
  alarmId: string,
  action: AlarmAction,
  actor: Actor,
  now: number,
  comment: string | null,
  cfg: LifecycleConfig = DEFAULT_LIFECYCLE,
): ActionResult {
  const current = Object.values(state.open).find((a) => a.id === alarmId);
  if (!current) return { ok: false, code: 'ERR_NOT_FOUND', message: `no open alarm ${alarmId}` };

  const transitions: Transition[] = [];
  const record = (from: AlarmState, to: AlarmState, why: string | null): void => {
    transitions.push({ alarmId, patientId: current.patientId, from, to, at: now, by: actor.id, byRole: actor.role, comment: why });
  };
  const illegal = (message: string): ActionResult => ({ ok: false, code: 'ERR_ILLEGAL_TRANSITION', message });
  const done = (alarm: Alarm): ActionResult => {
    const open = { ...state.open };
    if (alarm.state === 'resolved') delete open[alarm.key];
    else open[alarm.key] = alarm;
    return { ok: true, state: { pending: state.pending, open }, alarm, transitions };
  };

  switch (action) {
    case 'ack': {
      if (current.state === 'acknowledged') return illegal(`alarm ${alarmId} is already acknowledged`);
      const acked: Alarm = {
        ...current,
        state: 'acknowledged',
        acknowledgedBy: actor.id,
        acknowledgedAt: now,
        silencedUntil: null,
        nextEscalationAt: null,
        updatedAt: now,
      };
      record(current.state, 'acknowledged', comment);
      if (current.conditionActive) return done(acked);
      // A latched alarm whose condition is gone: acknowledging it is the deliberate operator action
      // the latch was waiting for, so it ends here.
      record('acknowledged', 'resolved', 'acknowledged after its condition cleared');
      return done({ ...acked, state: 'resolved', endedAt: now });
    }
    case 'silence': {
      if (current.state === 'silenced') {
        const until = current.silencedUntil === null ? 'further notice' : new Date(current.silencedUntil).toISOString();
        return illegal(`alarm ${alarmId} is already silenced until ${until}`);
      }
      record(current.state, 'silenced', comment);
      return done({ ...current, state: 'silenced', silencedUntil: now + cfg.silenceMs, nextEscalationAt: null, updatedAt: now });
    }
    case 'resolve': {
      // Resolving by hand is for latched alarms whose condition has gone; a present condition
      // would re-alarm at once, so refuse rather than hide it.
      if (current.conditionActive) return illegal(`condition still present: ${current.message}`);
      record(current.state, 'resolved', comment);
      return done({ ...current, state: 'resolved', silencedUntil: null, nextEscalationAt: null, endedAt: now, updatedAt: now });
    }
  }
}

/**
 * Rebuild a patient's state from the open alarms loaded after a restart. Pending delays are not
 * persisted: a condition still holding starts its delay again. Should the database hold two open
 * alarms for one key, the most recent wins.
 */
export function restore(alarms: Alarm[]): PatientAlarms {
  const open: Record<string, Alarm> = {};
  for (const a of alarms) {
    if (a.state === 'resolved') continue;
    const seen = open[a.key];
    if (!seen || a.ts >= seen.ts) open[a.key] = a;
  }
  return { pending: {}, open };
}

function fire(c: Condition, patientId: string, now: number, id: string, cfg: LifecycleConfig): Alarm {
  return {
    id,
    patientId,
    key: c.key,
    kind: c.kind,
    category: c.category,
    priority: c.priority,
    parameter: c.parameter,
    value: c.value,
    limit: c.limit,
    rule: c.rule,
    message: c.message,
    state: 'active',
    ts: now,
    endedAt: null,
    updatedAt: now,
    conditionActive: true,
    latching: latches(c),
    silencedUntil: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    escalationLevel: 0,
    nextEscalationAt: c.priority === 'high' ? now + cfg.escalateAfterMs : null,
    deviceId: c.deviceId ?? null,
  };
}

/** Rule 2: an open alarm whose condition holds follows it (value, limit, wording, priority). */
function updateFromCondition(current: Alarm, c: Condition, now: number, cfg: LifecycleConfig): Alarm {
  let nextEscalationAt = current.nextEscalationAt;
  if (c.priority === 'high') {
    // Only an active alarm runs the clock: a silenced one restarts it when the silence expires.
    if (current.state === 'active' && nextEscalationAt === null) nextEscalationAt = now + cfg.escalateAfterMs;
  } else {
    // Only high priority escalates; a stale deadline would fire at once if it rose again.
    nextEscalationAt = null;
  }
  return {
    ...current,
    value: c.value,
    limit: c.limit,
    message: c.message,
    rule: c.rule,
    priority: c.priority,
    // Once high, stays latched: a high-priority episode nobody acknowledged must not vanish because
    // the condition fell back to medium before clearing.
    latching: current.latching || latches(c),
    conditionActive: true,
    nextEscalationAt,
    updatedAt: now,
  };
}

/** The same condition again is not news; a new priority, limit, NEWS2 total or a returning condition is. */
function worthPushing(before: Alarm, after: Alarm): boolean {
  return (
    before.priority !== after.priority ||
    before.limit !== after.limit ||
    before.state !== after.state ||
    before.conditionActive !== after.conditionActive ||
    (after.key.startsWith('news2') && before.value !== after.value)
  );
}

function roleFor(level: number, cfg: LifecycleConfig): string {
  const roles = cfg.escalationRoles.length > 0 ? cfg.escalationRoles : DEFAULT_LIFECYCLE.escalationRoles;
  return roles[Math.min(level, roles.length - 1)] ?? 'nurse';
}

