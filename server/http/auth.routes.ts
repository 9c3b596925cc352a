// Accounts and sessions: POST /api/auth/register (a patient registers; staff accounts by an admin),
// login, refresh (rotating), logout, password change, GET /api/auth/me. Login, refresh and
// register are public; the rate limits run as `before` middleware, ahead of any work. A login of
// an account with two-factor sign-in (or whose role requires it) stops after the password with a
// challenge token; the code step and the 2FA routes are in two-factor.routes.ts.
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import { auditOf, type AppContext } from './context.ts';
import { calendarDate } from './validate.ts';
import { defineRoute, type Route } from './route.ts';
import { Errors, fail } from '../errors.ts';
import { FailureLimiter, ipOf, limited, type LoginLimits } from './limits.ts';
import { twoFactorRoutes } from './two-factor.routes.ts';
import { can } from '../auth/permissions.ts';
import { hashSecret, verifySecret } from '../auth/passwords.ts';
import { passwordProblem, type Account } from '../auth/password-policy.ts';
import type { Principal, Role } from '../domain/roles.ts';
import { patientIdOfUser, registerPatient, setPasswordHash } from '../auth/accounts.store.ts';
import { findUserByEmail, findUserById, insertUser, setUserWards, wardsOfUser, type UserWithHash } from '../../db/records.ts';
import { WARD_BOUND_ROLES } from '../records/scope.ts';
import { auditEntry, refusal } from '../records/repository.ts';
import { patientSpec } from '../records/specs.ts';
import { wardList } from './users.routes.ts';

const password = z.string().min(10, 'must be at least 10 characters').max(1024);
const email = z.email('must be an e-mail address').max(254);
const name = z.string().trim().min(1, 'required').max(200);

const loginSchema = z.strictObject({
  email: z.string().min(1, 'required').max(254),
  password: z.string().min(1, 'required').max(1024),
});

const STAFF_ROLES = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'kiosk'] as const satisfies readonly Role[];
// A kiosk is bound to the ward(s) its wall display shows (server/records/scope.ts): required for
// it, refused for any other role rather than silently ignored.
const staffSchema = z.strictObject({ email, name, password, role: z.enum(STAFF_ROLES), wards: wardList.optional() }).superRefine((b, c) => {
  const bound = WARD_BOUND_ROLES.includes(b.role);
  if (bound && b.wards === undefined) c.addIssue({ code: 'custom', path: ['wards'], message: `required for a ${b.role} account: the ward(s) its display shows, e.g. ["A"]` });
  if (!bound && b.wards !== undefined) c.addIssue({ code: 'custom', path: ['wards'], message: `only a ${WARD_BOUND_ROLES.join(' or ')} account is bound to wards, not a ${b.role}` });
});
const patientSchema = z.strictObject({
  email,
  name,
  password,
  role: z.literal('patient').optional(),
  dateOfBirth: calendarDate.optional(),
  phone: z.string().trim().regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number').optional(),
});
/** The role picks the form: none or 'patient' → a patient's own account; a staff role → staff. */
const registerSchema = z.discriminatedUnion('role', [patientSchema, staffSchema]);
const refreshSchema = z.strictObject({ refreshToken: z.string().min(1, 'required').max(200) });
const passwordSchema = z.strictObject({ currentPassword: z.string().min(1, 'required').max(1024), newPassword: password });

/** Refuse a weak password with the reason (docs/security.md, "Passwords"). */
function assertStrong(password: string, account: Account, field: string): void {
  const problem = passwordProblem(password, account);
  if (problem) throw Errors.validation(`${field}: ${problem}`, [{ path: field, message: problem }]);
}

// A fixed hash to verify against when the e-mail is unknown, so both failures take as long.
const DUMMY_HASH = hashSecret('wardpulse-timing-equaliser');

/** A raw body's e-mail, lower-cased, for a limit checked before the body is parsed. */
const rawEmail = (req: Request) => {
  const e = (req.body as { email?: unknown } | null | undefined)?.email;
  return typeof e === 'string' ? e.toLowerCase() : '';
};

export function authRoutes(ctx: AppContext): Route[] {
  const tag = 'auth';
  // Per address and e-mail (a guessed password), per address (a spray over many e-mails), per
  // account (current-password guesses with a stolen token), per address (e-mail probing by registration).
  const perAccount = new FailureLimiter(10);
  const perAddress = new FailureLimiter(100);
  // Wrong second-factor codes per account, from any address: the password is known by then.
  const limits: LoginLimits = { perAccount, perAddress, perUserCode: new FailureLimiter(10) };
  const perUser = new FailureLimiter(10);
  const registrations = new FailureLimiter(10);
  // Self-registrations that succeeded, per address per hour: one address cannot mint accounts.
  const selfRegistered = new FailureLimiter(ctx.policy.registrationsPerAddressPerHour, 3600_000);
  const as = (user: Principal, req: Request) => ({ user, ip: req.ip ?? null });

  const publicUser = async (u: Pick<UserWithHash, 'id' | 'role' | 'email' | 'name'>) => {
    const patientId = u.role === 'patient' ? await patientIdOfUser(ctx.db.driver, u.id) : null;
    const wards = WARD_BOUND_ROLES.includes(u.role) ? await wardsOfUser(ctx.db.driver, u.id) : null;
    return { id: u.id, role: u.role, email: u.email, name: u.name, ...(patientId ? { patientId } : {}), ...(wards ? { wards } : {}) };
  };

  /** The answer to a login or a refresh: new tokens for the session, audited with the account as the actor (the request carried no token). */
  const signedIn = async (user: Pick<UserWithHash, 'id' | 'role' | 'email' | 'name'>, sid: string, refreshToken: string, action: 'login' | 'refresh', req: Request, details: Record<string, unknown> = {}) => {
    const principal: Principal = { id: user.id, role: user.role, email: user.email, name: user.name };
    const token = await ctx.tokens.sign(principal, { sid });
    ctx.audit(auditEntry(as(principal, req), action, 'auth', user.id, null, { sid, ...details }));
    return { token, refreshToken, user: await publicUser(user), expiresIn: ctx.tokens.expiresIn(user.role) };
  };

  const loginLimit: RequestHandler = (req, res, next) => {
    const ip = ipOf(req);
    next(limited(res, [perAccount.retryAfter(`${ip}|${rawEmail(req)}`), perAddress.retryAfter(ip)]) ?? undefined);
  };
  const passwordLimit: RequestHandler = (req, res, next) => next(limited(res, [perUser.retryAfter(req.user!.id)]) ?? undefined);

  /**
   * Register's gate, before the body is parsed: the caller when a token is sent (one that does not
   * verify is refused, not ignored); a staff form only for an admin — authorised before it is
   * validated, so a non-admin learns nothing about it; the patient form's address limits.
   */
  const registerGate: RequestHandler = async (req, res, next) => {
    const header = req.headers.authorization;
    if (header) {
      const user = header.startsWith('Bearer ') ? await ctx.tokens.verify(header.slice(7)) : null;
      if (!user) return next(Errors.unauthenticated('invalid or expired token'));
      req.user = user;
    }
    const caller = req.user ?? null;
    const role = (req.body as { role?: unknown } | null | undefined)?.role;
    if (role !== undefined && role !== 'patient') {
      if (!caller || !can(caller.role, 'users:create')) return next(Errors.forbidden('staff accounts are created by an admin'));
      return next();
    }
    const ip = ipOf(req);
    const probing = limited(res, [registrations.retryAfter(ip)]);
    if (probing) return next(probing);
    if (!caller || caller.role === 'patient') {
      const minting = limited(
        res,
        [selfRegistered.retryAfter(ip)],
        (wait) => `too many accounts registered from this address (${ctx.policy.registrationsPerAddressPerHour} an hour); try again in ${wait} s or ask the front desk`,
      );
      if (minting) return next(minting);
    }
    next();
  };

  const routes = [
    defineRoute({
      method: 'post',
      path: '/api/auth/login',
      tag,
      summary: 'Log in: an access token, a refresh token and the user; with two-factor sign-in, a challenge token for POST /api/auth/2fa/verify (or, when the role requires 2FA and it is not set up, for setup/enable)',
      permission: 'public',
      before: [loginLimit],
      body: loginSchema,
      async handler({ req, body }) {
        const ip = ipOf(req);
        const key = `${ip}|${body.email.toLowerCase()}`;
        const user = await findUserByEmail(ctx.db.driver, body.email);
        const ok = await verifySecret(body.password, user?.passwordHash ?? (await DUMMY_HASH));
        if (!user || !ok) {
          perAccount.fail(key);
          perAddress.fail(ip);
          ctx.audit(auditOf(req, 'login-failed', 'auth', null, null, { email: body.email.toLowerCase() }));
          throw Errors.badCredentials();
        }
        // With 2FA on (or required and not yet set up) the password alone opens nothing: a
        // challenge token for the code step. The failure count is cleared only by a full login,
        // so logging in again does not reset a run of wrong codes.
        const enabled = await ctx.twoFactor.isEnabled(user.id);
        if (enabled || ctx.twoFactor.isRequired(user.role)) {
          const purpose = enabled ? 'verify' : 'enrol';
          const challenge = await ctx.twoFactor.issue(user.id, purpose);
          const principal: Principal = { id: user.id, role: user.role, email: user.email, name: user.name };
          ctx.audit(auditEntry(as(principal, req), enabled ? 'login-2fa-required' : 'login-2fa-enrolment-required', 'auth', user.id, null));
          return enabled
            ? { mfaRequired: true, mfaToken: challenge.token, mfaExpiresIn: challenge.expiresIn }
            : { mfaEnrolmentRequired: true, mfaToken: challenge.token, mfaExpiresIn: challenge.expiresIn };
        }
        perAccount.succeed(key);
        const session = await ctx.sessions.create(user.id, req.ip ?? null);
        return signedIn(user, session.sid, session.refreshToken, 'login', req);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/refresh',
      tag,
      summary: 'Exchange a refresh token for new tokens (the old refresh token stops working)',
      permission: 'public',
      body: refreshSchema,
      async handler({ req, body }) {
        const rotated = await ctx.sessions.rotate(body.refreshToken);
        if (!rotated.ok) {
          if (rotated.reason === 'reused') {
            const sid = body.refreshToken.split('.', 1)[0];
            req.log?.warn({ sid }, 'refresh token reused: session revoked');
            ctx.audit(auditOf(req, 'refresh-reused', 'auth', null, null, { sid }));
          }
          throw Errors.unauthenticated('invalid or expired refresh token');
        }
        const user = await findUserById(ctx.db.driver, rotated.userId);
        if (!user) {
          await ctx.sessions.revoke(rotated.sid);
          throw Errors.unauthenticated('invalid or expired refresh token');
        }
        // A session opened before REQUIRE_2FA_ROLES named the role is not extended: the next
        // login enrols.
        if (ctx.twoFactor.isRequired(user.role) && !(await ctx.twoFactor.isEnabled(user.id))) {
          await ctx.sessions.revoke(rotated.sid);
          ctx.audit(auditEntry(as({ id: user.id, role: user.role, email: user.email, name: user.name }, req), 'refresh-2fa-required', 'auth', user.id, null, { sid: rotated.sid }));
          throw Errors.unauthenticated(`two-factor sign-in is required for role '${user.role}': log in again to set it up`);
        }
        return signedIn(user, rotated.sid, rotated.refreshToken, 'refresh', req);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/logout',
      tag,
      summary: "End this token's session (its access and refresh tokens stop working)",
      permission: 'authenticated',
      status: 204,
      async handler({ user, audit }) {
        if (user.sid) await ctx.sessions.revoke(user.sid);
        audit('logout', 'auth', user.id, null, { sid: user.sid ?? null });
        return undefined;
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/auth/password',
      tag,
      summary: "Change one's password; every other session of the account ends",
      permission: 'authenticated',
      before: [passwordLimit],
      body: passwordSchema,
      async handler({ user: me, body, audit }) {
        const user = await findUserById(ctx.db.driver, me.id);
        if (!user) throw Errors.unauthenticated('account disabled');
        if (!(await verifySecret(body.currentPassword, user.passwordHash))) {
          perUser.fail(me.id);
          audit('password-change-failed', 'user', me.id, null);
          throw Errors.validation('body.currentPassword: does not match the current password', [{ path: 'body.currentPassword', message: 'does not match the current password' }]);
        }
        perUser.succeed(me.id);
        if (body.newPassword === body.currentPassword) {
          throw Errors.validation('body.newPassword: must differ from the current password', [{ path: 'body.newPassword', message: 'must differ from the current password' }]);
        }
        assertStrong(body.newPassword, user, 'body.newPassword');
        await setPasswordHash(ctx.db.driver, me.id, await hashSecret(body.newPassword));
        // A token without a session cannot be told apart from the others: end them all.
        const sessionsEnded = await ctx.sessions.revokeAllOf(me.id, me.sid);
        audit('password-change', 'user', me.id, null, { sessionsEnded });
        return { sessionsEnded };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/register',
      tag,
      summary: 'Register: without a role, a patient creates their own account and record; staff roles need an admin token',
      permission: 'public',
      before: [registerGate],
      body: registerSchema,
      status: 201,
      async handler({ req, body, audit }) {
        const caller = req.user ?? null;
        if (body.role !== undefined && body.role !== 'patient') {
          const staff = body as z.output<typeof staffSchema>;
          assertStrong(staff.password, staff, 'body.password');
          const passwordHash = await hashSecret(staff.password);
          const user = await ctx.db.driver
            .transaction(async (tx) => {
              const u = await insertUser(tx, { id: randomUUID(), email: staff.email, name: staff.name, role: staff.role, passwordHash });
              if (staff.wards) await setUserWards(tx, u.id, staff.wards);
              return staff.wards ? { ...u, wards: staff.wards } : u;
            })
            .catch((e) => refusal(e, 'user', { users_email_key: () => fail('ERR_DUPLICATE', `a user with e-mail '${staff.email}' exists`) }));
          audit('create', 'user', user.id, null, { role: user.role, ...(staff.wards ? { wards: staff.wards } : {}) });
          return user;
        }

        const form = body as z.output<typeof patientSchema>;
        assertStrong(form.password, form, 'body.password');
        const ip = ipOf(req);
        const self = !caller || caller.role === 'patient';
        const { user, patient } = await registerPatient(
          { db: ctx.db.driver, audit: (e) => ctx.audit(e) },
          { user: caller, ip: req.ip ?? null },
          { email: form.email, name: form.name, passwordHash: await hashSecret(form.password), dateOfBirth: form.dateOfBirth, phone: form.phone },
        ).catch((e: unknown) =>
          refusal(e, 'user', {
            users_email_key: () => {
              // Counted: answering 409 tells whether an address has an account, so probing is limited.
              registrations.fail(ip);
              return fail('ERR_DUPLICATE', 'this e-mail address cannot be registered');
            },
          }),
        );
        patientSpec.afterWrite?.(patient, ctx);
        if (self) selfRegistered.fail(ip);
        const actor: Principal = caller ?? { ...user };
        ctx.audit(auditEntry(as(actor, req), 'register', 'user', user.id, patient.id, { role: 'patient' }));
        return { user, patientId: patient.id };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/auth/me',
      tag,
      summary: 'The authenticated user (with patientId for a patient account)',
      permission: 'authenticated',
      async handler({ user }) {
        return { user: await publicUser(user) };
      },
    }),
  ];
  return [...routes, ...twoFactorRoutes(ctx, { limits, signedIn })];
}
