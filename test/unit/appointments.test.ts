// Slots, schedule checks and the next-free-slots search: table cases plus properties (fast-check)
// over random weekly schedules, leave and bookings.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addDays,
  canTransition,
  dailyCapProblem,
  dayOfWeek,
  displayName,
  fromMinutes,
  isInsideSchedule,
  matchesPreference,
  nextFreeSlots,
  onLeave,
  pastProblem,
  scheduleProblems,
  slotKey,
  slotProblem,
  slotsFor,
  toMinutes,
  type Leave,
  type Shift,
} from '../../server/records/appointments.ts';
import { bookingRefusal } from '../../server/records/appointments.store.ts';
import { DbError } from '../../db/driver.ts';
import { AppError } from '../../server/errors.ts';

// 2026-11-23 is a Monday.
const MON = '2026-11-23';
const shift = (dayOfWeek: number, startTime: string, endTime: string): Shift => ({ dayOfWeek, startTime, endTime });

describe('calendar helpers', () => {
  it('knows the weekday and adds days across months and leap years', () => {
    expect(dayOfWeek(MON)).toBe(1);
    expect(dayOfWeek('2026-11-22')).toBe(0);
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30'); // a DST change in Europe: irrelevant here
  });
});

describe('scheduleProblems', () => {
  it('accepts back-to-back shifts and refuses inverted or overlapping ones', () => {
    expect(scheduleProblems([shift(1, '09:00', '12:00'), shift(1, '12:00', '13:00'), shift(2, '09:00', '12:00')], [])).toEqual([]);
    expect(scheduleProblems([shift(1, '12:00', '09:00')], [])).toEqual(['shifts.0: startTime 12:00 must be before endTime 09:00']);
    expect(scheduleProblems([shift(1, '09:00', '12:00'), shift(1, '11:00', '14:00')], [])[0]).toMatch(/shifts.1: overlaps shifts.0 on day 1/);
    expect(scheduleProblems([], [{ fromDate: '2026-12-02', toDate: '2026-12-01' }])[0]).toMatch(/leave.0/);
  });
});

describe('slotsFor and slotProblem', () => {
  const shifts = [shift(1, '09:00', '10:00'), shift(1, '14:00', '14:50')];
  it('cuts each shift into slots; a short tail is not bookable', () => {
    expect(slotsFor(MON, shifts, [], 20)).toEqual(['09:00', '09:20', '09:40', '14:00', '14:20']);
    expect(slotsFor(addDays(MON, 1), shifts, [], 20)).toEqual([]);
    expect(slotsFor(MON, shifts, [{ fromDate: MON, toDate: MON }], 20)).toEqual([]);
  });
  it('says precisely why a slot is refused', () => {
    expect(slotProblem(MON, '09:20', shifts, [], 20)).toBeNull();
    expect(slotProblem(MON, '09:10', shifts, [], 20)).toMatch(/not a slot start: slots are 20 minutes from 09:00/);
    expect(slotProblem(MON, '10:00', shifts, [], 20)).toMatch(/outside the doctor's hours on Mondays \(09:00–10:00, 14:00–14:50/);
    expect(slotProblem(MON, '14:40', shifts, [], 20)).toMatch(/outside/);
    expect(slotProblem(addDays(MON, 1), '09:00', shifts, [], 20)).toMatch(/no shift on Tuesdays/);
    expect(slotProblem(MON, '09:00', shifts, [{ fromDate: '2026-11-20', toDate: MON, reason: 'conference' }], 20)).toBe('the doctor is on leave from 2026-11-20 to 2026-11-23 (conference)');
  });
});

describe('nextFreeSlots', () => {
  const shifts = [shift(1, '09:00', '10:00'), shift(3, '14:00', '15:00')];
  const base = { from: MON, days: 14, shifts, leave: [] as Leave[], slotMinutes: 30, booked: new Set<string>(), limit: 3 };
  it('skips booked slots and the past', () => {
    const r = nextFreeSlots({ ...base, booked: new Set([slotKey(MON, '09:00')]), notBefore: { date: MON, time: '09:15' } });
    expect(r.map((s) => `${s.date} ${s.time}`)).toEqual([`${MON} 09:30`, '2026-11-25 14:00', '2026-11-25 14:30']);
  });
  it('puts preferred slots first, then the others', () => {
    const r = nextFreeSlots({ ...base, preferred: { dayOfWeek: [3] } });
    expect(r.map((s) => [s.date, s.time, s.preferred])).toEqual([
      ['2026-11-25', '14:00', true],
      ['2026-11-25', '14:30', true],
      ['2026-12-02', '14:00', true],
    ]);
    const afternoon = nextFreeSlots({ ...base, limit: 6, preferred: { fromTime: '14:30' } });
    expect(afternoon.filter((s) => s.preferred).every((s) => s.time >= '14:30')).toBe(true);
    expect(afternoon[0]).toEqual({ date: '2026-11-25', time: '14:30', preferred: true });
  });
  it('urgent: the earliest, whatever the preference', () => {
    const r = nextFreeSlots({ ...base, preferred: { dayOfWeek: [3] }, urgent: true });
    expect(r.map((s) => `${s.date} ${s.time}`)).toEqual([`${MON} 09:00`, `${MON} 09:30`, '2026-11-25 14:00']);
  });
});

describe('status transitions and display names', () => {
  it('allows only the legal moves', () => {
    expect(canTransition('confirm', 'pending')).toBe(true);
    expect(canTransition('confirm', 'confirmed')).toBe(false);
    expect(canTransition('complete', 'confirmed')).toBe(true);
    expect(canTransition('cancel', 'completed')).toBe(false);
    expect(canTransition('reschedule', 'cancelled')).toBe(false);
  });
  it('shows a first name and an initial', () => {
    expect(displayName('Ada Lovelace')).toBe('Ada L.');
    expect(displayName('  Mary Ann  van der Berg ')).toBe('Mary B.');
    expect(displayName('Cher')).toBe('Cher');
  });
});

// ---------------------------------------------------------------- properties

const hhmm = (m: number) => fromMinutes(m);
/** Non-overlapping shifts: per weekday, sorted random cut points paired up. */
const shiftsArb = fc
  .array(
    fc.record({ day: fc.integer({ min: 0, max: 6 }), cuts: fc.uniqueArray(fc.integer({ min: 0, max: 24 * 12 - 1 }), { minLength: 2, maxLength: 6 }) }),
    { maxLength: 7 },
  )
  .map((days) => {
    const out: Shift[] = [];
    const seen = new Set<number>();
    for (const d of days) {
      if (seen.has(d.day)) continue;
      seen.add(d.day);
      const cuts = [...d.cuts].sort((a, b) => a - b).map((c) => c * 5);
      for (let i = 0; i + 1 < cuts.length; i += 2) out.push(shift(d.day, hhmm(cuts[i]!), hhmm(cuts[i + 1]!)));
    }
    return out;
  });
const dateArb = fc.integer({ min: 0, max: 60 }).map((n) => addDays('2026-11-01', n));
const leaveArb = fc.array(fc.tuple(dateArb, fc.integer({ min: 0, max: 5 })).map(([d, n]): Leave => ({ fromDate: d, toDate: addDays(d, n) })), { maxLength: 3 });
const slotMinutesArb = fc.constantFrom(5, 10, 15, 20, 30, 45, 60);
const prefArb = fc.option(
  fc.record(
    {
      dayOfWeek: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
      fromTime: fc.integer({ min: 0, max: 23 }).map((h) => hhmm(h * 60)),
      toTime: fc.integer({ min: 1, max: 24 }).map((h) => hhmm(Math.min(h * 60, 23 * 60 + 59))),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

describe('properties', () => {
  it('slotsFor covers each shift exactly, in slotMinutes steps, sorted, no duplicates', () => {
    fc.assert(
      fc.property(shiftsArb, dateArb, slotMinutesArb, (shifts, date, step) => {
        const slots = slotsFor(date, shifts, [], step);
        const expected = shifts
          .filter((s) => s.dayOfWeek === dayOfWeek(date))
          .flatMap((s) => {
            const n = Math.floor((toMinutes(s.endTime) - toMinutes(s.startTime)) / step);
            return Array.from({ length: n }, (_, i) => hhmm(toMinutes(s.startTime) + i * step));
          })
          .sort();
        expect(slots).toEqual(expected);
        for (const t of slots) expect(isInsideSchedule(date, t, shifts, [], step)).toBe(true);
      }),
    );
  });

  it('every free slot is inside a shift, not on leave, not booked, not before notBefore; sorted; unique', () => {
    fc.assert(
      fc.property(
        shiftsArb,
        leaveArb,
        slotMinutesArb,
        fc.array(fc.tuple(dateArb, fc.integer({ min: 0, max: 287 })), { maxLength: 40 }),
        prefArb,
        fc.boolean(),
        fc.integer({ min: 1, max: 30 }),
        (shifts, leave, step, bookedRaw, preferred, urgent, limit) => {
          const booked = new Set(bookedRaw.map(([d, m]) => slotKey(d, hhmm(Math.floor((m * 5) / step) * step))));
          const from = '2026-11-01';
          const notBefore = { date: from, time: '12:00' };
          const r = nextFreeSlots({ from, days: 30, shifts, leave, slotMinutes: step, booked, preferred, urgent, limit, notBefore });
          expect(r.length).toBeLessThanOrEqual(limit);
          const keys = r.map((s) => slotKey(s.date, s.time));
          expect(new Set(keys).size).toBe(keys.length);
          for (const s of r) {
            expect(isInsideSchedule(s.date, s.time, shifts, leave, step)).toBe(true);
            expect(onLeave(s.date, leave)).toBeUndefined();
            expect(booked.has(slotKey(s.date, s.time))).toBe(false);
            expect(`${s.date} ${s.time}` >= '2026-11-01 12:00').toBe(true);
            expect(s.preferred).toBe(matchesPreference(s, preferred));
          }
          const chrono = (xs: typeof r) => xs.map((s) => `${s.date} ${s.time}`);
          const sorted = (xs: string[]) => [...xs].sort();
          if (urgent) expect(chrono(r)).toEqual(sorted(chrono(r)));
          else {
            // preferred block first, each block in time order
            const firstOther = r.findIndex((s) => !s.preferred);
            if (firstOther >= 0) expect(r.slice(firstOther).every((s) => !s.preferred)).toBe(true);
            expect(chrono(r.filter((s) => s.preferred))).toEqual(sorted(chrono(r.filter((s) => s.preferred))));
            expect(chrono(r.filter((s) => !s.preferred))).toEqual(sorted(chrono(r.filter((s) => !s.preferred))));
          }
        },
      ),
    );
  });

  it('urgent returns exactly the earliest free slots', () => {
    fc.assert(
      fc.property(shiftsArb, leaveArb, slotMinutesArb, prefArb, fc.integer({ min: 1, max: 20 }), (shifts, leave, step, preferred, limit) => {
        const from = '2026-11-01';
        const all: string[] = [];
        for (let i = 0; i < 21; i++) for (const t of slotsFor(addDays(from, i), shifts, leave, step)) all.push(`${addDays(from, i)} ${t}`);
        const r = nextFreeSlots({ from, days: 21, shifts, leave, slotMinutes: step, booked: new Set(), preferred, urgent: true, limit });
        expect(r.map((s) => `${s.date} ${s.time}`)).toEqual(all.slice(0, limit));
      }),
    );
  });

  it('non-urgent: no free preferred slot is left out while a non-preferred one is returned', () => {
    fc.assert(
      fc.property(shiftsArb, slotMinutesArb, prefArb, fc.integer({ min: 1, max: 20 }), (shifts, step, preferred, limit) => {
        const from = '2026-11-01';
        const r = nextFreeSlots({ from, days: 14, shifts, leave: [], slotMinutes: step, booked: new Set(), preferred, limit });
        if (r.some((s) => !s.preferred)) {
          let total = 0;
          for (let i = 0; i < 14; i++) total += slotsFor(addDays(from, i), shifts, [], step).filter((t) => matchesPreference({ date: addDays(from, i), time: t }, preferred)).length;
          expect(r.filter((s) => s.preferred).length).toBe(total);
        }
      }),
    );
  });
});

describe('booking refusals', () => {
  const now = { date: '2026-11-23', time: '10:16' };

  it('refuses a slot that has started already, by date then time (hospital time)', () => {
    expect(pastProblem({ date: '2026-11-22', time: '23:59' }, now)).toBe('2026-11-22 23:59 is in the past (now 2026-11-23 10:16, hospital time)');
    expect(pastProblem({ date: '2026-11-23', time: '10:15' }, now)).toMatch(/in the past/);
    // the current minute is still bookable, and so is anything later
    expect(pastProblem({ date: '2026-11-23', time: '10:16' }, now)).toBeNull();
    expect(pastProblem({ date: '2026-11-24', time: '00:00' }, now)).toBeNull();
  });

  it('caps a patient account at `cap` live appointments with a doctor on a day', () => {
    expect(dailyCapProblem(0, 2, '2026-11-23')).toBeNull();
    expect(dailyCapProblem(1, 2, '2026-11-23')).toBeNull();
    expect(dailyCapProblem(2, 2, '2026-11-23')).toBe('the patient already holds 2 appointment(s) with this doctor on 2026-11-23 (at most 2 a day); cancel one or ask the front desk');
    expect(dailyCapProblem(3, 2, '2026-11-23')).toMatch(/already holds 3/);
    expect(dailyCapProblem(0, 0, '2026-11-23')).toMatch(/at most 0 a day/);
  });

  // The message deliberately names neither index: the constraint name alone decides.
  const unique = (constraint: string | undefined) => new DbError('duplicate key value violates unique constraint', '23505', 'Key (…) already exists.', constraint);
  const slot = { date: '2026-11-23', time: '09:00' };
  const refused = (err: unknown, attempt = 1): AppError => {
    try {
      bookingRefusal(err, slot, attempt);
    } catch (e) {
      return e as AppError;
    }
    throw new Error('not refused');
  };

  it('a collision on appointments_slot is ERR_SLOT_TAKEN, named by the constraint, not the message', () => {
    expect(refused(unique('appointments_slot'))).toMatchObject({ code: 'ERR_SLOT_TAKEN', status: 409, message: 'slot taken: the doctor already has an appointment on 2026-11-23 at 09:00' });
    const misleading = new DbError('appointments_slot', '23505', undefined, 'appointments_other');
    expect(refused(misleading)).toMatchObject({ code: 'ERR_DUPLICATE' });
  });

  it('a collision on appointments_token is retried four times, then refused as a duplicate', () => {
    for (const attempt of [1, 2, 3, 4]) expect(bookingRefusal(unique('appointments_token'), slot, attempt)).toBe('retry');
    expect(refused(unique('appointments_token'), 5)).toMatchObject({ code: 'ERR_DUPLICATE', status: 409 });
  });

  it('anything else is left to refusal(): catalogue errors pass through, faults are rethrown as they are', () => {
    const own = new AppError('ERR_NOT_BOOKABLE', 409, 'not bookable: …');
    expect(refused(own)).toBe(own);
    const fault = new Error('connection reset');
    expect(refused(fault)).toBe(fault);
    expect(refused(new DbError('insert or update violates foreign key constraint', '23503', undefined, 'appointments_patient_id_fkey'))).toMatchObject({ code: 'ERR_VALIDATION' });
  });
});
