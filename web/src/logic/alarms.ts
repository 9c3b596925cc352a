// Alarm presentation after IEC 60601-1-8: high = red, flashing ~2 Hz; medium = yellow, flashing
// ~0.5 Hz; low = cyan, steady. Flashing only until someone responds (acknowledged and silenced
// alarms stay steady in their colour). The highest priority wins; newest first within a priority.
import { PERMISSIONS, PRIORITY_RANK as RANK, type AlarmAction, type AlertEvent, type ObservationsDue, type Role } from '../../../server/domain/index.ts';

export type Priority = AlertEvent['priority'];

export function isOpen(a: Pick<AlertEvent, 'state'>): boolean {
  return a.state !== 'resolved';
}

export function highestPriority(alerts: Iterable<Pick<AlertEvent, 'priority' | 'state'>>): Priority | null {
  let best: Priority | null = null;
  for (const a of alerts) {
    if (!isOpen(a)) continue;
    if (best === null || RANK[a.priority] > RANK[best]) best = a.priority;
  }
  return best;
}

/** Highest priority first, newest first within a priority. */
export function sortAlarms<T extends Pick<AlertEvent, 'priority' | 'ts'>>(alerts: T[]): T[] {
  return [...alerts].sort((a, b) => RANK[b.priority] - RANK[a.priority] || b.ts - a.ts);
}

export const PRIORITY_STYLE: Record<Priority, { colour: string; text: string; flashHz: number; label: string }> = {
  high: { colour: '#d32f2f', text: '#ffffff', flashHz: 2, label: 'High priority alarm' },
  medium: { colour: '#fdd835', text: '#111111', flashHz: 0.5, label: 'Medium priority alarm' },
  low: { colour: '#26c6da', text: '#111111', flashHz: 0, label: 'Low priority alarm' },
};

// ── Operator actions and their presentation ────────────────────────────────────────────────────
// The lifecycle (server/pipeline/alarms/lifecycle.ts) is the authority; these rules only decide
// what the dashboard offers and how an alarm looks, so a refused action is rare, not impossible.

type Shown = Pick<AlertEvent, 'state' | 'conditionActive' | 'latching' | 'silencedUntil'>;

/**
 * A flashing indicator means "nobody has responded yet": once acknowledged or silenced the alarm
 * stays in its priority colour, steady (IEC 60601-1-8 keeps the visual signal, stops the urgency).
 * Low priority never flashes.
 */
export function flashes(a: Pick<AlertEvent, 'state' | 'priority'>): boolean {
  return a.state === 'active' && PRIORITY_STYLE[a.priority].flashHz > 0;
}

export const CLEARED_TEXT = 'cleared — acknowledge to dismiss';
/** A critical lab result is latched from the start (docs/alarms.md): nothing "cleared", it waits to be taken in. */
export const LAB_CRITICAL_TEXT = 'critical lab result — acknowledge once a clinician has it';

/** What a latched alarm whose condition has passed says: cleared, or for a lab result, waiting to be taken in. */
export function latchedText(a: Pick<AlertEvent, 'kind'>): string {
  return a.kind === 'lab-critical' ? LAB_CRITICAL_TEXT : CLEARED_TEXT;
}

/** A latched alarm that outlived its condition: it waits for someone to acknowledge it. */
export function isLatchedCleared(a: Pick<Shown, 'state' | 'conditionActive' | 'latching'>): boolean {
  return a.latching && !a.conditionActive && a.state !== 'resolved';
}

/** Time left in a silence (audio paused), ms; 0 when not silenced or already expired. */
export function silenceRemaining(a: Pick<Shown, 'state' | 'silencedUntil'>, now: number): number {
  if (a.state !== 'silenced' || a.silencedUntil === null) return 0;
  return Math.max(0, a.silencedUntil - now);
}

/** "1:59", "0:05", "1:02:03". Rounded up: a countdown reads 0:00 only when it is over. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** "active", "acknowledged", "silenced 1:42" — what the state column says. */
export function stateText(a: Pick<Shown, 'state' | 'silencedUntil'>, now: number): string {
  return a.state === 'silenced' ? `silenced ${formatCountdown(silenceRemaining(a, now))}` : a.state;
}

/** Who may acknowledge, silence and resolve: the server's permission 'alarms:act' (the clinicians). */
export function canAct(role: string | null | undefined): boolean {
  return role != null && (PERMISSIONS['alarms:act'] as readonly Role[]).includes(role as Role);
}

/**
 * The actions the lifecycle accepts from this state: acknowledge from active or silenced; silence
 * from active or acknowledged; resolve by hand only once the condition has gone (a present
 * condition would re-alarm at once).
 */
export function legalActions(a: Pick<AlertEvent, 'state' | 'conditionActive'>): AlarmAction[] {
  const out: AlarmAction[] = [];
  if (a.state === 'active' || a.state === 'silenced') out.push('ack');
  if (a.state === 'active' || a.state === 'acknowledged') out.push('silence');
  if (a.state !== 'resolved' && !a.conditionActive) out.push('resolve');
  return out;
}

/**
 * "→ doctor, level 1" once an unacknowledged alarm has re-notified; '' before. The role comes
 * from the server's escalation event; after a reload only the level is known, and the dashboard
 * does not guess the server's configured role ladder.
 */
export function escalationText(level: number, role?: string | null): string {
  if (level <= 0) return '';
  return role ? `→ ${role}, level ${level}` : `escalated, level ${level}`;
}

/**
 * The alarm a bed shows: the highest priority; within it one still waiting for a response before
 * an acknowledged or silenced one (it must not hide behind it); then the newest.
 */
export function topAlarm<T extends Pick<AlertEvent, 'priority' | 'ts' | 'state'>>(alerts: Iterable<T>): T | null {
  let best: T | null = null;
  for (const a of alerts) {
    if (!isOpen(a)) continue;
    if (
      best === null ||
      RANK[a.priority] > RANK[best.priority] ||
      (RANK[a.priority] === RANK[best.priority] &&
        (Number(a.state === 'active') > Number(best.state === 'active') || (Number(a.state === 'active') === Number(best.state === 'active') && a.ts > best.ts)))
    )
      best = a;
  }
  return best;
}

// ── Manual observations due (RCP NEWS2 chart 2, computed by the server) ────────────────────────

/** "42m", "3h 5m", "12h". */
function formatMinutes(min: number): string {
  if (min < 60) return `${min}m`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

/**
 * "obs due 42m" / "obs overdue 5m" / null (continuous monitoring, or nothing known). Time to go is
 * rounded up and time overdue down, so the text turns to "overdue" exactly at the due time.
 */
export function formatObsDue(obs: ObservationsDue | null | undefined, now: number): { text: string; overdue: boolean } | null {
  if (!obs || obs.interval === 'continuous' || obs.dueAt === null) return null;
  const left = obs.dueAt - now;
  if (left > 0) return { text: `obs due ${formatMinutes(Math.ceil(left / 60_000))}`, overdue: false };
  const late = Math.floor(-left / 60_000);
  return { text: late < 1 ? 'obs due now' : `obs overdue ${formatMinutes(late)}`, overdue: true };
}
