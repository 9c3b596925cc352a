// Referrals: a doctor refers a patient to another doctor or to a speciality, with a reason and an
// urgency; the receiving side accepts or declines (with a note); an accepted referral is booked
// through the ordinary booking, POST /api/appointments with `referralId` (appointments.routes.ts),
// which links the appointment. Rules: referrals.ts; storage, who sees what, audit: referrals.store.ts.
import { z } from 'zod';
import { actorOf, type AppContext } from '../http/context.ts';
import { uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { REFERRAL_STATUSES, URGENCIES } from './referrals.ts';
import { ReferralStore } from './referrals.store.ts';

const text = (max: number) => z.string().trim().min(1, 'required').max(max);

const createBody = z
  .strictObject({
    patientId: uuid,
    /** To one doctor … */
    toDoctorId: uuid.optional(),
    /** … or to any doctor of a speciality offered here (matched case-insensitively). */
    toSpeciality: text(100).optional(),
    reason: text(1000),
    urgency: z.enum(URGENCIES, { error: 'must be routine or urgent' }).default('routine'),
  })
  .superRefine((b, ctx) => {
    if (b.toDoctorId !== undefined && b.toSpeciality !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['toSpeciality'], message: 'refer to a doctor (toDoctorId) or to a speciality (toSpeciality), not both' });
    } else if (b.toDoctorId === undefined && b.toSpeciality === undefined) {
      ctx.addIssue({ code: 'custom', path: ['toDoctorId'], message: 'required: a doctor (toDoctorId) or a speciality (toSpeciality)' });
    }
  });

// No body (or JSON null) is an empty one.
const respondBody = z.preprocess((b) => b ?? undefined, z.strictObject({ note: text(1000).optional() }).optional());

const listQuery = z.strictObject({
  direction: z.enum(['incoming', 'outgoing'], { error: 'must be incoming or outgoing' }).optional(),
  doctorId: uuid.optional(),
  patientId: uuid.optional(),
  status: z.enum(REFERRAL_STATUSES, { error: `must be one of ${REFERRAL_STATUSES.join(', ')}` }).optional(),
  urgency: z.enum(URGENCIES, { error: 'must be routine or urgent' }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export function referralRoutes(ctx: AppContext): Route[] {
  const store = new ReferralStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const base = '/api/referrals';
  const respond = (action: 'accept' | 'decline', summary: string) =>
    defineRoute({
      method: 'put',
      path: `${base}/{id}/${action}`,
      tag: 'referrals',
      summary,
      permission: 'referrals:respond',
      body: respondBody,
      handler: ({ req, params, body }) => store.respond(actorOf(req), params.id, action, body?.note),
    });
  return [
    defineRoute({
      method: 'post',
      path: base,
      tag: 'referrals',
      summary: 'Refer a patient to another doctor or to a speciality, with a reason and urgency (a doctor, as themself)',
      permission: 'referrals:create',
      body: createBody,
      status: 201,
      handler: ({ req, body }) => store.create(actorOf(req), body),
    }),
    defineRoute({
      method: 'get',
      path: base,
      tag: 'referrals',
      summary: "List referrals, newest first: a doctor's incoming and outgoing, a patient's own and family's, all for admins and the front desk",
      permission: 'referrals:read',
      query: listQuery,
      handler: ({ req, query }) => store.list(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: `${base}/{id}`,
      tag: 'referrals',
      summary: 'One referral (404 also for one that does not concern the caller)',
      permission: 'referrals:read',
      handler: ({ req, params }) => store.read(actorOf(req), params.id),
    }),
    respond('accept', 'Accept a pending referral (the receiving doctor, or a doctor of the speciality), with an optional note'),
    respond('decline', 'Decline a pending referral (the receiving doctor, or a doctor of the speciality), with an optional note'),
  ];
}
