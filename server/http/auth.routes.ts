// Accounts and sessions: POST /api/auth/register (a patient registers; staff accounts by an admin),
// login, refresh (rotating), logout, password change, GET /api/auth/me.
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { type AppContext, authenticate, auditOf, handler } from './context.ts';
import { calendarDate, parse } from './validate.ts';
import { describeRoute } from './openapi.ts';
import { Errors } from '../errors.ts';
import { can } from '../auth/permissions.ts';
import { hashSecret, verifySecret } from '../auth/passwords.ts';
import { passwordProblem, type Account } from '../auth/password-policy.ts';
import type { Principal, Role } from '../domain/roles.ts';
import { patientIdOfUser, registerPatient, setPasswordHash } from '../auth/sessions.ts';
import { findUserByEmail, findUserById, insertUser, setUserWards, wardsOfUser, type UserWithHash } from '../../db/records.ts';
import { WARD_BOUND_ROLES } from '../records/scope.ts';
import { wardList } from './users.routes.ts';
import { DbError } from '../../db/driver.ts';

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
const refreshSchema = z.strictObject({ refreshToken: z.string().min(1, 'required').max(200) });
const passwordSchema = z.strictObject({ currentPassword: z.string().min(1, 'required').max(1024), newPassword: password });

/** Refuse a weak password with the reason (docs/security.md, "Passwords"). */
function assertStrong(password: string, account: Account, field: string): void {
  const problem = passwordProblem(password, account);
  if (problem) throw Errors.validation(`${field}: ${problem}`, [{ path: field, message: problem }]);
}

// A fixed hash to verify against when the e-mail is unknown, so both failures take as long.
const DUMMY_HASH = hashSecret('wardpulse-timing-equaliser');

/** Failures per key within a window; at `max` the key waits until the window ends. */
class FailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly max = 10,
    private readonly windowMs = 15 * 60_000,
  ) {}
  retryAfter(key: string, now = Date.now()): number {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) return 0;
    return f.count >= this.max ? Math.ceil((f.resetAt - now) / 1000) : 0;
  }
  fail(key: string, now = Date.now()): void {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) this.failures.set(key, { count: 1, resetAt: now + this.windowMs });
    else f.count++;
    if (this.failures.size > 100_000) this.failures.clear(); // bounded memory under a spray
  }
  succeed(key: string): void {
    this.failures.delete(key);
  }
}

export function authRoutes(ctx: AppContext): Router {
  const r = Router();
  // Per address and e-mail (a guessed password), per address (a spray over many e-mails), per
  // account (current-password guesses with a stolen token), per address (e-mail probing by registration).
  const perAccount = new FailureLimiter(10);
  const perAddress = new FailureLimiter(100);
  const perUser = new FailureLimiter(10);
  const registrations = new FailureLimiter(10);
  // Self-registrations that succeeded, per address per hour: one address cannot mint accounts.
  const selfRegistered = new FailureLimiter(ctx.policy.registrationsPerAddressPerHour, 3600_000);

  const refuseWhileLimited = (res: import('express').Response, ...waits: number[]) => {
    const wait = Math.max(...waits);
    if (wait <= 0) return;
    res.setHeader('Retry-After', String(wait));
    throw Errors.tooManyRequests(`too many failed attempts; try again in ${wait} s`);
  };

  const publicUser = async (u: Pick<UserWithHash, 'id' | 'role' | 'email' | 'name'>) => {
    const patientId = u.role === 'patient' ? await patientIdOfUser(ctx.db.driver, u.id) : null;
    const wards = WARD_BOUND_ROLES.includes(u.role) ? await wardsOfUser(ctx.db.driver, u.id) : null;
    return { id: u.id, role: u.role, email: u.email, name: u.name, ...(patientId ? { patientId } : {}), ...(wards ? { wards } : {}) };
  };

  /** The caller, when a token is sent; a token that does not verify is refused, not ignored. */
  const optionalUser = async (req: Request): Promise<Principal | null> => {
    const header = req.headers.authorization;
    if (!header) return null;
    const user = header.startsWith('Bearer ') ? await ctx.tokens.verify(header.slice(7)) : null;
    if (!user) throw Errors.unauthenticated('invalid or expired token');
    req.user = user;
    return user;
  };

  describeRoute({ method: 'post', path: '/api/auth/login', tag: 'auth', summary: 'Log in: an access token, a refresh token and the user', body: loginSchema, public: true });
  r.post(
    '/login',
    handler(async (req, res) => {
      const body = parse(loginSchema, req.body, 'body');
      const ip = req.ip ?? 'unknown';
      const key = `${ip}|${body.email.toLowerCase()}`;
      refuseWhileLimited(res, perAccount.retryAfter(key), perAddress.retryAfter(ip));
      const user = await findUserByEmail(ctx.db.driver, body.email);
      const ok = await verifySecret(body.password, user?.passwordHash ?? (await DUMMY_HASH));
      if (!user || !ok) {
        perAccount.fail(key);
        perAddress.fail(ip);
        ctx.audit({ actorId: null, actorRole: null, action: 'login-failed', resource: 'auth', resourceId: null, ip: req.ip ?? null, details: { email: body.email.toLowerCase() } });
        throw Errors.badCredentials();
      }
      perAccount.succeed(key);
      const session = await ctx.sessions.create(user.id, req.ip ?? null);
      const principal: Principal = { id: user.id, role: user.role, email: user.email, name: user.name };
      const token = await ctx.tokens.sign(principal, { sid: session.sid });
      ctx.audit({ ...auditOf(req, 'login', 'auth', user.id, null, { sid: session.sid }), actorId: user.id, actorRole: user.role });
      res.json({ token, refreshToken: session.refreshToken, user: await publicUser(user), expiresIn: ctx.tokens.expiresIn(user.role) });
    }),
  );

  describeRoute({ method: 'post', path: '/api/auth/refresh', tag: 'auth', summary: 'Exchange a refresh token for new tokens (the old refresh token stops working)', body: refreshSchema, public: true });
  r.post(
    '/refresh',
    handler(async (req, res) => {
      const body = parse(refreshSchema, req.body, 'body');
      const rotated = await ctx.sessions.rotate(body.refreshToken);
      if (!rotated.ok) {
        if (rotated.reason === 'reused') {
          req.log?.warn({ sid: body.refreshToken.split('.', 1)[0] }, 'refresh token reused: session revoked');
          ctx.audit(auditOf(req, 'refresh-reused', 'auth', null, null, { sid: body.refreshToken.split('.', 1)[0] }));
        }
        throw Errors.unauthenticated('invalid or expired refresh token');
      }
      const user = await findUserById(ctx.db.driver, rotated.userId);
      if (!user) {
        await ctx.sessions.revoke(rotated.sid);
        throw Errors.unauthenticated('invalid or expired refresh token');
      }
      const token = await ctx.tokens.sign({ id: user.id, role: user.role, email: user.email, name: user.name }, { sid: rotated.sid });
      ctx.audit({ ...auditOf(req, 'refresh', 'auth', user.id, null, { sid: rotated.sid }), actorId: user.id, actorRole: user.role });
      res.json({ token, refreshToken: rotated.refreshToken, user: await publicUser(user), expiresIn: ctx.tokens.expiresIn(user.role) });
    }),
  );

  describeRoute({ method: 'post', path: '/api/auth/logout', tag: 'auth', summary: "End this token's session (its access and refresh tokens stop working)", status: 204 });
  r.post(
    '/logout',
    authenticate(ctx),
    handler(async (req, res) => {
      const sid = req.user!.sid;
      if (sid) await ctx.sessions.revoke(sid);
      ctx.audit(auditOf(req, 'logout', 'auth', req.user!.id, null, { sid: sid ?? null }));
      res.status(204).end();
    }),
  );

  describeRoute({ method: 'put', path: '/api/auth/password', tag: 'auth', summary: "Change one's password; every other session of the account ends", body: passwordSchema });
  r.put(
    '/password',
    authenticate(ctx),
    handler(async (req, res) => {
      const body = parse(passwordSchema, req.body, 'body');
      const me = req.user!;
      refuseWhileLimited(res, perUser.retryAfter(me.id));
      const user = await findUserById(ctx.db.driver, me.id);
      if (!user) throw Errors.unauthenticated('account disabled');
      if (!(await verifySecret(body.currentPassword, user.passwordHash))) {
        perUser.fail(me.id);
        ctx.audit(auditOf(req, 'password-change-failed', 'user', me.id, null));
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
      ctx.audit(auditOf(req, 'password-change', 'user', me.id, null, { sessionsEnded }));
      res.json({ sessionsEnded });
    }),
  );

  describeRoute({
    method: 'post',
    path: '/api/auth/register',
    tag: 'auth',
    summary: 'Register: without a role, a patient creates their own account and record; staff roles need an admin token',
    body: z.union([patientSchema, staffSchema]),
    status: 201,
    public: true,
  });
  r.post(
    '/register',
    handler(async (req, res) => {
      const caller = await optionalUser(req);
      const role = (req.body as { role?: unknown } | undefined)?.role;
      if (role !== undefined && role !== 'patient') {
        // Authorise before validating: a non-admin learns nothing about the staff form.
        if (!caller || !can(caller.role, 'users:create')) throw Errors.forbidden('staff accounts are created by an admin');
        const body = parse(staffSchema, req.body, 'body');
        assertStrong(body.password, body, 'body.password');
        try {
          const passwordHash = await hashSecret(body.password);
          const user = await ctx.db.driver.transaction(async (tx) => {
            const u = await insertUser(tx, { id: randomUUID(), email: body.email, name: body.name, role: body.role, passwordHash });
            if (body.wards) await setUserWards(tx, u.id, body.wards);
            return body.wards ? { ...u, wards: body.wards } : u;
          });
          ctx.audit(auditOf(req, 'create', 'user', user.id, null, { role: user.role, ...(body.wards ? { wards: body.wards } : {}) }));
          res.status(201).json(user);
        } catch (err) {
          if (err instanceof DbError && err.code === '23505') throw Errors.conflict(`a user with e-mail '${body.email}' exists`);
          throw err;
        }
        return;
      }

      const body = parse(patientSchema, req.body, 'body');
      assertStrong(body.password, body, 'body.password');
      const ip = req.ip ?? 'unknown';
      const self = !caller || caller.role === 'patient';
      refuseWhileLimited(res, registrations.retryAfter(ip));
      if (self) {
        const wait = selfRegistered.retryAfter(ip);
        if (wait > 0) {
          res.setHeader('Retry-After', String(wait));
          throw Errors.tooManyRequests(`too many accounts registered from this address (${ctx.policy.registrationsPerAddressPerHour} an hour); try again in ${wait} s or ask the front desk`);
        }
      }
      try {
        const { user, patient } = await registerPatient(ctx.db.driver, {
          email: body.email,
          name: body.name,
          passwordHash: await hashSecret(body.password),
          dateOfBirth: body.dateOfBirth,
          phone: body.phone,
        });
        ctx.onPatientChanged(patient);
        if (self) selfRegistered.fail(ip);
        const actor = caller ?? user;
        ctx.audit({ ...auditOf(req, 'register', 'user', user.id, patient.id, { role: 'patient' }), actorId: actor.id, actorRole: actor.role });
        res.status(201).json({ user, patientId: patient.id });
      } catch (err) {
        if (err instanceof DbError && err.code === '23505') {
          // Counted: answering 409 tells whether an address has an account, so probing is limited.
          registrations.fail(ip);
          throw Errors.conflict('this e-mail address cannot be registered');
        }
        throw err;
      }
    }),
  );

  describeRoute({ method: 'get', path: '/api/auth/me', tag: 'auth', summary: 'The authenticated user (with patientId for a patient account)' });
  r.get(
    '/me',
    authenticate(ctx),
    handler(async (req, res) => {
      res.json({ user: await publicUser(req.user!) });
    }),
  );

  return r;
}
