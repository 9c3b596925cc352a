// Accounts, as an admin manages them after creation: PUT /api/users/{id}/wards binds a kiosk
// account to the ward(s) its wall display shows (issue 11, finding 5). The kiosk's REST reads
// check its wards on every request; its open Socket.IO connections are closed so that they
// reconnect and subscribe again under the new wards (server/records/scope.ts, wardScope).
// DELETE /api/users/{id}/2fa resets an account's two-factor sign-in (server/auth/two-factor.ts).
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { defineRoute, type Route } from './route.ts';
import { Errors, fail } from '../errors.ts';
import { findUserById, setUserWards, wardsOfUser } from '../../db/records.ts';
import { WARD_BOUND_ROLES } from '../records/scope.ts';

/** A ward as a patient's `ward` is written (1–64 characters); duplicates are folded. */
export const wardList = z
  .array(z.string().trim().min(1, 'required').max(64), { error: 'must be a list of ward names' })
  .min(1, 'must name at least one ward')
  .max(50)
  .transform((ws) => [...new Set(ws)].sort());

const wardsBody = z.strictObject({ wards: wardList });

export function userRoutes(ctx: AppContext): Route[] {
  return [
    defineRoute({
      method: 'put',
      path: '/api/users/{id}/wards',
      tag: 'auth',
      summary: "Replace a kiosk account's wards (its open live connections re-subscribe under them)",
      permission: 'users:manage',
      body: wardsBody,
      async handler({ params: { id }, body, audit }) {
        const user = await findUserById(ctx.db.driver, id);
        if (!user) throw Errors.notFound('user', id);
        if (!WARD_BOUND_ROLES.includes(user.role)) {
          throw fail('ERR_WRONG_KIND', `user '${id}' is a ${user.role} account: only a ${WARD_BOUND_ROLES.join(' or ')} account is bound to wards`);
        }
        const before = await ctx.db.driver.transaction(async (tx) => {
          const was = await wardsOfUser(tx, id);
          await setUserWards(tx, id, body.wards);
          return was;
        });
        // Its sockets come back (the dashboard reconnects by itself) and subscribe again: a ward
        // taken away is refused then, and nothing more of it is pushed meanwhile.
        const liveConnectionsClosed = ctx.onAccessChanged(id);
        // Audited with the ward lists before and after, which only the handler knows.
        audit('update', 'user-wards', id, null, { before, after: body.wards, liveConnectionsClosed });
        return { id, role: user.role, wards: body.wards, liveConnectionsClosed };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/users/{id}/2fa',
      tag: 'auth',
      summary: "Reset an account's two-factor sign-in (a lost phone and no recovery code): it logs in with the password again, and enrols anew where its role requires 2FA",
      permission: 'users:manage',
      async handler({ params: { id }, audit }) {
        const user = await findUserById(ctx.db.driver, id);
        if (!user) throw Errors.notFound('user', id);
        if (!(await ctx.twoFactor.disable(id))) throw fail('ERR_ILLEGAL_TRANSITION', `user '${id}' has no two-factor sign-in set up`);
        audit('2fa-reset', 'user', id, null);
        return { id, enabled: false };
      },
    }),
  ];
}
