// Doctor schedules, slots and booking rules as pure functions (no I/O, no clock): the routes
// load the schedule and the booked slots, these decide. Dates are 'YYYY-MM-DD' and times 'HH:MM'
// on the hospital's wall clock; the server runs in that zone (TZ; UTC in our containers), so
// "today" and "now" come from the process's local time (see localNow).

export interface Shift {
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: number;
  startTime: string;
  endTime: string;
}

export interface Leave {
  fromDate: string;
  toDate: string;
  reason?: string | null;
}

export type AppointmentStatus = 'pending' | 'confirmed' | 'completed' | 'cancelled';

export interface Slot {
  date: string;
  time: string;
}

export interface FreeSlot extends Slot {
  /** Matches the patient's preferred days and times. */
  preferred: boolean;
}

export interface Preference {
  dayOfWeek?: number[];
  /** Inclusive: a slot starting at fromTime matches. */
  fromTime?: string;
  /** Exclusive: a slot must start before toTime. */
  toTime?: string;
}

export const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
export const fromMinutes = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

const dayMs = 86_400_000;
const utcOf = (date: string): number => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));

/** Calendar arithmetic on 'YYYY-MM-DD' (UTC maths, so no daylight-saving surprises). */
export const addDays = (date: string, n: number): string => new Date(utcOf(date) + n * dayMs).toISOString().slice(0, 10);
export const dayOfWeek = (date: string): number => new Date(utcOf(date)).getUTCDay();

/** The wall-clock date and minute of the server process (the hospital's zone). */
export function localNow(at = new Date()): Slot {
  const p = (n: number) => String(n).padStart(2, '0');
  return { date: `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}`, time: `${p(at.getHours())}:${p(at.getMinutes())}` };
}

export const onLeave = (date: string, leave: readonly Leave[]): Leave | undefined => leave.find((l) => l.fromDate <= date && date <= l.toDate);

/** Problems with a weekly schedule: an empty list means it is valid. */
export function scheduleProblems(shifts: readonly Shift[], leave: readonly Leave[]): string[] {
  const problems: string[] = [];
  shifts.forEach((s, i) => {
    if (toMinutes(s.startTime) >= toMinutes(s.endTime)) problems.push(`shifts.${i}: startTime ${s.startTime} must be before endTime ${s.endTime}`);
  });
  for (let d = 0; d <= 6; d++) {
    const day = shifts.map((s, i) => ({ s, i })).filter(({ s }) => s.dayOfWeek === d).sort((a, b) => a.s.startTime.localeCompare(b.s.startTime));
    for (let k = 1; k < day.length; k++) {
      const prev = day[k - 1]!;
      const cur = day[k]!;
      if (cur.s.startTime < prev.s.endTime) problems.push(`shifts.${cur.i}: overlaps shifts.${prev.i} on day ${d} (${prev.s.startTime}–${prev.s.endTime})`);
    }
  }
  leave.forEach((l, i) => {
    if (l.fromDate > l.toDate) problems.push(`leave.${i}: fromDate ${l.fromDate} must not be after toDate ${l.toDate}`);
  });
  return problems;
}

/**
 * The bookable slot starts on one date: each shift of that weekday cut into `slotMinutes` steps
 * from its start; a tail shorter than one slot is not bookable. None on a leave day.
 */
export function slotsFor(date: string, shifts: readonly Shift[], leave: readonly Leave[], slotMinutes: number): string[] {
  if (onLeave(date, leave)) return [];
  const dow = dayOfWeek(date);
  const out = new Set<string>();
  for (const s of shifts) {
    if (s.dayOfWeek !== dow) continue;
    const end = toMinutes(s.endTime);
    for (let t = toMinutes(s.startTime); t + slotMinutes <= end; t += slotMinutes) out.add(fromMinutes(t));
  }
  return [...out].sort();
}

/** Why a slot cannot be booked, or null when it is inside the schedule. */
export function slotProblem(date: string, time: string, shifts: readonly Shift[], leave: readonly Leave[], slotMinutes: number): string | null {
  const l = onLeave(date, leave);
  if (l) return `the doctor is on leave from ${l.fromDate} to ${l.toDate}${l.reason ? ` (${l.reason})` : ''}`;
  const dow = dayOfWeek(date);
  const day = shifts.filter((s) => s.dayOfWeek === dow);
  if (day.length === 0) return `the doctor has no shift on ${DAY_NAMES[dow]}s`;
  const t = toMinutes(time);
  const shift = day.find((s) => toMinutes(s.startTime) <= t && t + slotMinutes <= toMinutes(s.endTime));
  if (!shift) return `${time} is outside the doctor's hours on ${DAY_NAMES[dow]}s (${day.map((s) => `${s.startTime}–${s.endTime}`).join(', ')}, ${slotMinutes}-minute slots)`;
  if ((t - toMinutes(shift.startTime)) % slotMinutes !== 0) return `${time} is not a slot start: slots are ${slotMinutes} minutes from ${shift.startTime}`;
  return null;
}

/** Why a slot cannot be booked because it has started already (hospital time), or null. */
export function pastProblem(slot: Slot, now: Slot): string | null {
  return `${slot.date} ${slot.time}` < `${now.date} ${now.time}` ? `${slot.date} ${slot.time} is in the past (now ${now.date} ${now.time}, hospital time)` : null;
}

/**
 * Why a patient account may not take one more appointment with a doctor on `day`, holding `held`
 * live ones there already (issue 11: one account could otherwise take a doctor's whole day), or null.
 */
export function dailyCapProblem(held: number, cap: number, day: string): string | null {
  return held >= cap ? `the patient already holds ${held} appointment(s) with this doctor on ${day} (at most ${cap} a day); cancel one or ask the front desk` : null;
}

export const isInsideSchedule = (date: string, time: string, shifts: readonly Shift[], leave: readonly Leave[], slotMinutes: number): boolean =>
  slotProblem(date, time, shifts, leave, slotMinutes) === null;

export const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export const slotKey = (date: string, time: string): string => `${date}|${time}`;

export function matchesPreference(slot: Slot, p: Preference | undefined): boolean {
  if (!p) return false;
  if (p.dayOfWeek && p.dayOfWeek.length > 0 && !p.dayOfWeek.includes(dayOfWeek(slot.date))) return false;
  if (p.fromTime && slot.time < p.fromTime) return false;
  if (p.toTime && slot.time >= p.toTime) return false;
  return true;
}

export interface NextFreeQuery {
  /** First date searched. */
  from: string;
  /** How many dates, `from` included. */
  days: number;
  shifts: readonly Shift[];
  leave: readonly Leave[];
  slotMinutes: number;
  /** Taken slots, as slotKey(date, time). */
  booked: ReadonlySet<string>;
  preferred?: Preference;
  /** Earliest free slots whatever the preference. */
  urgent?: boolean;
  limit: number;
  /** Slots starting before this moment are gone (today's past slots). */
  notBefore?: Slot;
}

/**
 * The next free slots. Urgent: the earliest, in time order. Otherwise the preferred ones first
 * (in time order), then the others (in time order), so a patient with a preference still sees
 * alternatives when few preferred slots are free.
 */
export function nextFreeSlots(q: NextFreeQuery): FreeSlot[] {
  const preferred: FreeSlot[] = [];
  const others: FreeSlot[] = [];
  const cutoff = q.notBefore ? `${q.notBefore.date} ${q.notBefore.time}` : '';
  for (let i = 0; i < q.days; i++) {
    const date = addDays(q.from, i);
    for (const time of slotsFor(date, q.shifts, q.leave, q.slotMinutes)) {
      if (q.booked.has(slotKey(date, time)) || `${date} ${time}` < cutoff) continue;
      const slot = { date, time, preferred: matchesPreference({ date, time }, q.preferred) };
      if (q.urgent) {
        others.push(slot);
        if (others.length >= q.limit) return others;
      } else (slot.preferred ? preferred : others).push(slot);
    }
    if (!q.urgent && preferred.length >= q.limit) break;
  }
  return [...preferred, ...others].slice(0, q.limit);
}

// ---------------------------------------------------------------- status transitions

/** Which statuses an action may start from; anything else is refused (409). */
export const TRANSITIONS = {
  confirm: { from: ['pending'], to: 'confirmed' },
  complete: { from: ['pending', 'confirmed'], to: 'completed' },
  cancel: { from: ['pending', 'confirmed'], to: 'cancelled' },
  reschedule: { from: ['pending', 'confirmed'], to: null },
} as const satisfies Record<string, { from: readonly AppointmentStatus[]; to: AppointmentStatus | null }>;

export type AppointmentAction = keyof typeof TRANSITIONS;

export function canTransition(action: AppointmentAction, from: AppointmentStatus): boolean {
  return (TRANSITIONS[action].from as readonly AppointmentStatus[]).includes(from);
}

/** What a queue display shows: first name and the initial of the last (privacy in a waiting room). */
export function displayName(full: string): string {
  const parts = full.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '';
  if (parts.length === 1) return parts[0]!;
  return `${parts[0]} ${parts[parts.length - 1]![0]!.toUpperCase()}.`;
}
