// Family links: GET/POST /api/patients/{id}/family, DELETE /api/patients/{id}/family/{memberId}.
// A link is one-way: the account of patient {id} (a parent, a carer) sees member {memberId}'s
// records (server/records/scope.ts); the member's account does not see {id}'s. Link both ways for
// mutual access. Set by the desk, never by the patient: it widens what an account may read.
import { z } from 'zod';
import { type AppContext, actorOf } from '../http/context.ts';
import { uuid } from '../http/validate.ts';
import { defineRoute, type Route, type RouteAudit } from '../http/route.ts';
import { Errors } from '../errors.ts';
import { assertPatientVisible } from './scope.ts';
import { FamilyStore, type FamilyLink } from './family.store.ts';

const linkSchema = z.strictObject({
  memberId: uuid,
  relation: z.string().trim().min(1, 'required').max(50),
});

/** A link's audit entry: the link named `{patientId}:{memberId}`, on the patient's trail. */
const linkAudit = (action: string): RouteAudit<FamilyLink> => ({
  action,
  resource: 'family link',
  id: (l) => `${l.patientId}:${l.memberId}`,
  details: (l) => ({ memberId: l.memberId, relation: l.relation }),
});

export function familyRoutes(ctx: AppContext): Route[] {
  const store = new FamilyStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const tag = 'patients';
  return [
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/family',
      tag,
      summary: "A patient's linked family members",
      permission: 'family:read',
      async handler({ req, user, params: { id } }) {
        await assertPatientVisible(ctx, user, id);
        return { items: await store.list(actorOf(req), id) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/patients/{id}/family',
      tag,
      summary: "Link a family member: patient {id}'s account may then see the member's records",
      permission: 'family:manage',
      body: linkSchema,
      status: 201,
      audit: linkAudit('create'),
      async handler({ params: { id }, body }) {
        if (body.memberId === id) throw Errors.validation('body.memberId: a patient cannot be their own family member', [{ path: 'body.memberId', message: 'a patient cannot be their own family member' }]);
        return store.link({ patientId: id, memberId: body.memberId, relation: body.relation });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/patients/{id}/family/{memberId}',
      tag,
      summary: 'Remove a family link',
      permission: 'family:manage',
      audit: linkAudit('delete'),
      handler: ({ params: { id, memberId } }) => store.unlink(id, memberId!),
    }),
  ];
}
