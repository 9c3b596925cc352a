// Doctor schedules and appointments: the per-entity routes the generic resource mechanism leaves
// out, because booking has rules (inside the schedule, not on leave, not in the past, one live
// booking per slot, a queue token per doctor and day). Declared once each (route.ts); the rules
// are pure (appointments.ts), the SQL, the scope and the audit are the store's
// (appointments.store.ts).
import { z } from 'zod';
import { type AppContext, actorOf } from '../http/context.ts';
import { calendarDate, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { Errors } from '../errors.ts';
import { scheduleProblems } from './appointments.ts';
import { AppointmentStore } from './appointments.store.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM (00:00–23:59)');
const date = calendarDate;

const scheduleBody = z.strictObject({
  shifts: z.array(z.strictObject({ dayOfWeek: z.number().int().min(0, '0 = Sunday … 6 = Saturday').max(6, '0 = Sunday … 6 = Saturday'), startTime: hhmm, endTime: hhmm })).max(100),
  leave: z.array(z.strictObject({ fromDate: date, toDate: date, reason: z.string().trim().max(200).nullable().optional() })).max(500).default([]),
});

const slotsQuery = z.strictObject({
  from: date.optional(),
  days: z.coerce.number().int().min(1).max(90).default(14),
  preferredDays: z
    .string()
    .regex(/^[0-6](,[0-6])*$/, 'must be days of the week 0–6, comma-separated (0 = Sunday)')
    .transform((s) => [...new Set(s.split(',').map(Number))])
    .optional(),
  fromTime: hhmm.optional(),
  toTime: hhmm.optional(),
  urgent: z.stringbool().default(false),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

const bookBody = z.strictObject({
  patientId: uuid,
  doctorId: uuid,
  date,
  time: hhmm,
  /** Default: normal, or urgent when booked from an urgent referral. */
  priority: z.enum(['normal', 'urgent']).optional(),
  reason: z.string().trim().max(1000).nullable().optional(),
  /** An accepted referral this appointment is booked from (its patient, with its receiving doctor): it becomes booked. */
  referralId: uuid.optional(),
});

const rescheduleBody = z.strictObject({ date, time: hhmm });

const listQuery = z.strictObject({
  doctorId: uuid.optional(),
  patientId: uuid.optional(),
  date: date.optional(),
  status: z.enum(['pending', 'confirmed', 'completed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** The feature's store for this app: its SQL, scope and audit. */
export const appointmentStore = (ctx: AppContext) =>
  new AppointmentStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) }, ctx.policy.bookingsPerPatientPerDoctorPerDay, ctx.notifications);

// ---------------------------------------------------------------- schedules: /api/doctors/{id}/…

export function scheduleRoutes(ctx: AppContext): Route[] {
  const store = appointmentStore(ctx);
  return [
    defineRoute({
      method: 'get',
      path: '/api/doctors/{id}/schedule',
      tag: 'doctors',
      summary: "A doctor's weekly shifts and leave",
      permission: 'doctors:read',
      handler: ({ params }) => store.schedule(params.id),
    }),
    defineRoute({
      method: 'put',
      path: '/api/doctors/{id}/schedule',
      tag: 'doctors',
      summary: "Replace a doctor's weekly shifts and leave (a doctor: their own)",
      permission: 'schedules:manage',
      body: scheduleBody,
      handler({ req, params, body }) {
        const problems = scheduleProblems(body.shifts, body.leave);
        if (problems.length > 0) throw Errors.validation(problems.map((p) => `body.${p}`).join('; '));
        return store.replaceSchedule(actorOf(req), params.id, body.shifts, body.leave);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/doctors/{id}/slots',
      tag: 'doctors',
      summary: 'Next free slots (preferred days/times first; urgent: the earliest)',
      permission: 'doctors:read',
      query: slotsQuery,
      handler: ({ params, query }) => store.freeSlots(params.id, query),
    }),
  ];
}

// ---------------------------------------------------------------- appointments: /api/appointments

export function appointmentRoutes(ctx: AppContext): Route[] {
  const store = appointmentStore(ctx);
  const base = '/api/appointments';
  const transition = (action: 'confirm' | 'complete' | 'cancel', permission: 'appointments:change' | 'appointments:manage', summary: string) =>
    defineRoute({
      method: 'put',
      path: `${base}/{id}/${action}`,
      tag: 'appointments',
      summary,
      permission,
      handler: ({ req, params }) => store.transition(actorOf(req), params.id, action),
    });
  return [
    defineRoute({
      method: 'post',
      path: base,
      tag: 'appointments',
      summary: 'Book an appointment (a patient: for themselves or family); with referralId, from an accepted referral, which it links',
      permission: 'appointments:book',
      body: bookBody,
      status: 201,
      handler: ({ req, body }) => store.book(actorOf(req), body),
    }),
    defineRoute({
      method: 'get',
      path: base,
      tag: 'appointments',
      summary: 'List appointments (a patient: their own and family)',
      permission: 'appointments:read',
      query: listQuery,
      handler: ({ req, query }) => store.list(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/{id}`,
      tag: 'appointments',
      summary: 'Get one appointment',
      permission: 'appointments:read',
      handler: ({ req, params }) => store.read(actorOf(req), params.id),
    }),
    defineRoute({
      method: 'put',
      path: `${base}/{id}/reschedule`,
      tag: 'appointments',
      summary: 'Move to another slot (a new token when the date changes)',
      permission: 'appointments:change',
      body: rescheduleBody,
      handler: ({ req, params, body }) => store.reschedule(actorOf(req), params.id, body),
    }),
    transition('confirm', 'appointments:manage', 'Confirm a pending appointment'),
    transition('complete', 'appointments:manage', 'Mark an appointment completed'),
    transition('cancel', 'appointments:change', 'Cancel an appointment (the slot becomes free; the token is not reused)'),
  ];
}
