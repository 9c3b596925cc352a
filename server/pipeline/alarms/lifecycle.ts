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
//
// A worse condition is a new alarm condition (IEC 60601-1-8 §6.8: alarm signal inactivation —
// acknowledgement and audio paused — applies to the alarm condition as it was): when the priority
// of an acknowledged or silenced alarm rises, it returns to active, flashing and sounding, with a
// fresh escalation clock, and the trail says why.
import { bandOfThreshold } from '../score/news2.ts';
import { PRIORITY_RANK, type Actor, type Alarm, type AlarmAction, type AlarmState, type Condition, type Escalation, type Transition } from '../../domain/alarms.ts';

export interface LifecycleConfig {
  /** How long a silence (audio paused) lasts. */
  silenceMs: number;
  /** An unacknowledged high-priority alarm re-notifies after this, escalating one level each time. */
  escalateAfterMs: number;
  /** An unacknowledged medium-priority physiological alarm re-notifies after this. */
  escalateMediumAfterMs: number;
  /** The role notified at each level: level 0 → roles[0], level 1 → roles[1], beyond → the last role. */
  escalationRoles: string[];
}

export const DEFAULT_LIFECYCLE: LifecycleConfig = Object.freeze({
  silenceMs: 120_000,
  escalateAfterMs: 60_000,
  escalateMediumAfterMs: 15 * 60_000,
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
 * How long an active alarm may go unacknowledged before it re-notifies one level up: high
 * priority after `escalateAfterMs`, medium-priority physiological after `escalateMediumAfterMs`;
 * technical and low-priority alarms never escalate (null).
 */
export function escalationDelay(a: Pick<Condition, 'priority' | 'category'>, cfg: LifecycleConfig): number | null {
  if (a.priority === 'high') return cfg.escalateAfterMs;
  if (a.priority === 'medium' && a.category === 'physiological') return cfg.escalateMediumAfterMs;
  return null;
}

/** When an alarm that is (again) active from `now` escalates next, or null if it does not escalate. */
function escalationDeadline(a: Pick<Condition, 'priority' | 'category'>, now: number, cfg: LifecycleConfig): number | null {
  const delay = escalationDelay(a, cfg);
  return delay === null ? null : now + delay;
}

/** A NEWS2 total this far above its acknowledged value is news, even within the same band. */
export const NEWS2_RISE_NEWS = 2;

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
      const { alarm: next, why } = updateFromCondition(current, c, now, cfg);
      open[c.key] = next;
      if (why) system(next, current.state, next.state, why);
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

  // Rule 4 — silence (audio paused) expiry: the alarm sounds again and its escalation clock restarts.
  for (const [key, current] of Object.entries(open)) {
    if (current.state !== 'silenced' || current.silencedUntil === null || current.silencedUntil > now) continue;
    const next: Alarm = {
      ...current,
      state: 'active',
      silencedUntil: null,
      nextEscalationAt: escalationDeadline(current, now, cfg),
      updatedAt: now,
    };
    open[key] = next;
    changed.set(next.id, next);
    system(next, 'silenced', 'active', 'silence expired');
  }

  // Rule 5 — escalation: an active high-priority (or medium physiological) alarm nobody has
  // acknowledged re-notifies one level up. A late step escalates once, not once per missed period:
  // each level is a notification to deliver.
  for (const [key, current] of Object.entries(open)) {
    if (current.state !== 'active') continue;
    const delay = escalationDelay(current, cfg);
    if (delay === null || current.nextEscalationAt === null || current.nextEscalationAt > now) continue;
    const level = current.escalationLevel + 1;
    const next: Alarm = { ...current, escalationLevel: level, nextEscalationAt: now + delay, updatedAt: now };
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
        // The acknowledgement covers the condition as it is now (IEC 60601-1-8 §6.8).
        acknowledgedValue: current.value,
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
 * Rebuild a patient's state after a restart from the open alarms loaded from the database and
 * the pending alarm condition delays saved with the monitor state (a condition still holding
 * fires when its delay, counted from its original start, is over). Should the database hold two
 * open alarms for one key, the most recent wins. The escalation clock of an active alarm that
 * escalates restarts at `now` (the deadline itself is not stored).
 */
export function restore(alarms: Alarm[], pending: Record<string, number> = {}, now?: number, cfg: LifecycleConfig = DEFAULT_LIFECYCLE): PatientAlarms {
  const open: Record<string, Alarm> = {};
  for (const a of alarms) {
    if (a.state === 'resolved') continue;
    const seen = open[a.key];
    if (!seen || a.ts >= seen.ts) open[a.key] = a;
  }
  if (now !== undefined) {
    for (const [key, a] of Object.entries(open)) {
      if (a.state === 'active' && a.nextEscalationAt === null) open[key] = { ...a, nextEscalationAt: escalationDeadline(a, now, cfg) };
    }
  }
  const waiting: Record<string, number> = {};
  for (const [key, since] of Object.entries(pending)) if (!open[key]) waiting[key] = since;
  return { pending: waiting, open };
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
    acknowledgedValue: null,
    escalationLevel: 0,
    nextEscalationAt: escalationDeadline(c, now, cfg),
    deviceId: c.deviceId ?? null,
  };
}

/**
 * Rule 2: an open alarm whose condition holds follows it (value, limit, wording, priority).
 * - A rise in priority of an acknowledged or silenced alarm re-activates it: a worse condition is
 *   a new alarm condition (IEC 60601-1-8 §6.8). The acknowledgement is cleared (the trail keeps
 *   who gave it), escalation starts again at level 0 with a fresh clock, and `why` says so.
 * - A rise in priority of an active alarm restarts its escalation clock (the new priority's delay).
 * - A NEWS2 total rising by NEWS2_RISE_NEWS or more within its band after an acknowledgement is
 *   news: it stays acknowledged, and the trail and the push say so.
 */
function updateFromCondition(current: Alarm, c: Condition, now: number, cfg: LifecycleConfig): { alarm: Alarm; why: string | null } {
  const priorityRose = PRIORITY_RANK[c.priority] > PRIORITY_RANK[current.priority];
  // A NEWS2 alarm whose band rises is worse even at the same priority (a single 3 → 5–6 are both
  // medium by default): the band is kept as the alarm's limit (3, 5, 7).
  const bandRose = current.kind === 'news2' && c.limit !== null && current.limit !== null && c.limit > current.limit;
  const rose = priorityRose || bandRose;
  const changedPriority = c.priority !== current.priority;
  let next: Alarm = {
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
    updatedAt: now,
  };
  let why: string | null = null;
  if (rose && (current.state === 'acknowledged' || current.state === 'silenced')) {
    why = priorityRose ? `priority rose: ${current.priority} → ${c.priority}` : `NEWS2 band rose: ${bandOfThreshold(current.limit)} → ${bandOfThreshold(c.limit)}`;
    next = {
      ...next,
      state: 'active',
      silencedUntil: null,
      acknowledgedBy: null,
      acknowledgedAt: null,
      acknowledgedValue: null,
      escalationLevel: 0,
      nextEscalationAt: escalationDeadline(c, now, cfg),
    };
  } else if (current.state === 'active') {
    // Only an active alarm runs the clock: a silenced one restarts it when the silence expires.
    const deadline = escalationDeadline(c, now, cfg);
    if (deadline === null || changedPriority || current.nextEscalationAt === null) next.nextEscalationAt = deadline;
  } else {
    next.nextEscalationAt = null;
  }
  if (
    !why &&
    current.state === 'acknowledged' &&
    current.kind === 'news2' &&
    current.acknowledgedValue !== null &&
    c.value !== null &&
    c.value >= current.acknowledgedValue + NEWS2_RISE_NEWS
  ) {
    // The state does not change (same band): the entry records that the score worsened since the
    // acknowledgement, and the reference moves up so each further 2 points are news again.
    why = `NEWS2 rose ${current.acknowledgedValue} → ${c.value} since acknowledged`;
    next = { ...next, acknowledgedValue: c.value };
  }
  return { alarm: next, why };
}

/** The same condition again is not news; a new priority, limit, NEWS2 total or a returning condition is. */
function worthPushing(before: Alarm, after: Alarm): boolean {
  return (
    before.priority !== after.priority ||
    before.limit !== after.limit ||
    before.state !== after.state ||
    before.conditionActive !== after.conditionActive ||
    before.acknowledgedValue !== after.acknowledgedValue ||
    (after.key.startsWith('news2') && before.value !== after.value)
  );
}

function roleFor(level: number, cfg: LifecycleConfig): string {
  const roles = cfg.escalationRoles.length > 0 ? cfg.escalationRoles : DEFAULT_LIFECYCLE.escalationRoles;
  return roles[Math.min(level, roles.length - 1)] ?? 'nurse';
}

