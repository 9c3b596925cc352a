// The outbox for admins (GET /api/notifications) and a patient's own opt-outs
// (GET/PUT /api/me/notifications). Declared once each (http/route.ts); the SQL is the outbox
// store's (outbox.store.ts).
import { z } from 'zod';
import type { AppContext } from '../http/context.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { uuid } from '../http/validate.ts';
import { Errors } from '../errors.ts';
import { PATIENT_KINDS, type PatientKind } from './messages.ts';
import { listNotifications, preferencesOf, setPreferences } from './outbox.store.ts';

const listQuery = z.strictObject({
  status: z.enum(['pending', 'sending', 'sent', 'failed']).optional(),
  kind: z.string().regex(/^[a-z-]{1,40}$/, 'must be a kind such as appointment-booked').optional(),
  patientId: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

const preferencesBody = z
  .strictObject(Object.fromEntries(PATIENT_KINDS.map((k) => [k, z.boolean().optional()])) as Record<PatientKind, z.ZodOptional<z.ZodBoolean>>)
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: `name at least one kind: ${PATIENT_KINDS.join(', ')}` });

export function notificationRoutes(ctx: AppContext): Route[] {
  const db = ctx.db.driver;
  /** The patient record a patient account speaks for (its own; not its family's). */
  const ownPatient = async (userId: string): Promise<string> => {
    const { rows } = await db.query<{ patient_id: string | null }>('SELECT patient_id FROM users WHERE id = $1', [userId]);
    const id = rows[0]?.patient_id;
    if (!id) throw Errors.forbidden('this account is not linked to a patient record');
    return id;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/notifications',
      tag: 'notifications',
      summary: 'The notifications outbox, newest first: status, attempts, last error, each delivery attempt',
      permission: 'notifications:read',
      query: listQuery,
      async handler({ query, audit }) {
        const result = await listNotifications(db, query);
        // It shows patients' addresses and their appointments: who looked is recorded.
        audit('list', 'notification', null, query.patientId ?? null, { count: result.items.length, status: query.status ?? null, kind: query.kind ?? null });
        return result;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/me/notifications',
      tag: 'notifications',
      summary: "The signed-in patient's notifications (e-mail and SMS), per kind (true: sent)",
      permission: 'notifications:preferences',
      handler: async ({ user }) => preferencesOf(db, await ownPatient(user.id)),
    }),
    defineRoute({
      method: 'put',
      path: '/api/me/notifications',
      tag: 'notifications',
      summary: 'Turn kinds of e-mail notification on (true) or off (false); kinds left out keep their setting',
      permission: 'notifications:preferences',
      body: preferencesBody,
      async handler({ user, body, audit }) {
        const patientId = await ownPatient(user.id);
        const changes = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<Record<PatientKind, boolean>>;
        const prefs = await setPreferences(db, patientId, changes);
        audit('update', 'notification-preferences', patientId, patientId, changes);
        return prefs;
      },
    }),
  ];
}
