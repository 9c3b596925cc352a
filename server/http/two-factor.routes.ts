// Two-factor sign-in over HTTP: set up an authenticator, turn it on (ten recovery codes), turn it
// off with a current code, and the code step of a login (POST /api/auth/2fa/verify with the
// login's mfaToken). The rules are in server/auth/two-factor.ts; this file checks who is asking,
// counts failures into the login lockout (limits.ts) and audits every outcome.
//
// Setup and enable take either an access token (an account turning 2FA on by choice) or, with no
// Authorization header, the `mfaToken` of a login whose role must have 2FA (REQUIRE_2FA_ROLES):
// that token opens nothing else, and enabling with it completes the login.
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { defineRoute, type Route } from './route.ts';
import { ipOf, limited, type LoginLimits } from './limits.ts';
import { Errors, fail } from '../errors.ts';
import type { Principal } from '../domain/roles.ts';
import type { CodeResult } from '../auth/two-factor.ts';
import { findUserById, type UserWithHash } from '../../db/records.ts';
import { auditEntry } from '../records/repository.ts';

type Account = Pick<UserWithHash, 'id' | 'role' | 'email' | 'name'>;
/** auth.routes.ts' answer to a completed login: tokens, the user, audited as `login`. */
export type SignedIn = (user: Account, sid: string, refreshToken: string, action: 'login', req: Request, details?: Record<string, unknown>) => Promise<object>;

const code = z.string().trim().min(1, 'required').max(64);
const mfaToken = z.string().min(1, 'required').max(200);
const setupSchema = z.strictObject({ mfaToken: mfaToken.optional() }).default({});
const enableSchema = z.strictObject({ code, mfaToken: mfaToken.optional() });
const disableSchema = z.strictObject({ code });
const verifySchema = z.strictObject({ mfaToken, code });

const principalOf = (u: Account): Principal => ({ id: u.id, role: u.role, email: u.email, name: u.name });

/** Why a code was refused, in the words the user needs. */
function codeProblem(r: Extract<CodeResult, { ok: false }>): string {
  if (r.reason === 'reused') return 'was already used: wait for the next code from your authenticator, or use an unused recovery code';
  if (r.reason === 'unreadable') return "cannot be checked: this server cannot read the account's authenticator secret (its key changed); use a recovery code, or ask an admin to reset two-factor sign-in";
  return 'is not a current code of your authenticator or an unused recovery code';
}

export function twoFactorRoutes(ctx: AppContext, shared: { limits: LoginLimits; signedIn: SignedIn }): Route[] {
  const tag = 'auth';
  const tf = ctx.twoFactor;
  const { perAccount, perAddress, perUserCode } = shared.limits;
  const as = (user: Principal, req: Request) => ({ user, ip: req.ip ?? null });
  const audit = (req: Request, user: Principal, action: string, details?: unknown) => ctx.audit(auditEntry(as(user, req), action, 'auth', user.id, null, details));

  const addressLimit: RequestHandler = (req, res, next) => next(limited(res, [perAddress.retryAfter(ipOf(req))]) ?? undefined);

  /**
   * Who sets up or enables: the bearer of an access token, or (no Authorization header) the
   * account of an enrolment `mfaToken`. An invalid token of either kind is 401.
   */
  async function enrolee(req: Request, token: string | undefined): Promise<{ user: Account; challengeId: string | null }> {
    const header = req.headers.authorization;
    if (header) {
      if (token !== undefined) throw Errors.validation('body.mfaToken: send either Authorization: Bearer <token> or an mfaToken, not both', [{ path: 'body.mfaToken', message: 'not with an Authorization header' }]);
      const p = header.startsWith('Bearer ') ? await ctx.tokens.verify(header.slice(7)) : null;
      if (!p) throw Errors.unauthenticated('invalid or expired token');
      req.user = p;
      const u = await findUserById(ctx.db.driver, p.id);
      if (!u) throw Errors.unauthenticated('account disabled');
      return { user: u, challengeId: null };
    }
    if (token === undefined) throw Errors.unauthenticated('authentication required: send Authorization: Bearer <token>, or the mfaToken of a login that must set up two-factor sign-in');
    const c = await tf.open(token, 'enrol');
    if (!c.ok) {
      throw Errors.unauthenticated(
        c.reason === 'wrong-purpose' ? 'this mfaToken is for the code step of a login: POST /api/auth/2fa/verify' : 'invalid, expired or already used mfaToken: log in again',
      );
    }
    const u = await findUserById(ctx.db.driver, c.challenge.userId);
    if (!u) throw Errors.unauthenticated('account disabled');
    return { user: u, challengeId: c.challenge.id };
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/auth/2fa',
      tag,
      summary: "Whether two-factor sign-in is on for one's account, whether the role requires it, and how many recovery codes are left",
      permission: 'authenticated',
      async handler({ user }) {
        const status = await tf.status(user.id);
        return { ...status, required: tf.isRequired(user.role) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/2fa/setup',
      tag,
      summary:
        'Start setting up an authenticator: a new TOTP secret and its otpauth:// URI (not on until enabled). With an access token, or with the mfaToken of a login that must enrol (no Authorization header)',
      permission: 'public',
      before: [addressLimit],
      body: setupSchema,
      async handler({ req, body }) {
        const { user } = await enrolee(req, body.mfaToken);
        const r = await tf.setup(user);
        audit(req, principalOf(user), '2fa-setup');
        return r;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/2fa/enable',
      tag,
      summary:
        "Turn two-factor sign-in on with a first code from the authenticator: ten one-time recovery codes, shown once; the account's other sessions end. With an enrolment mfaToken it also completes the login (the usual tokens)",
      permission: 'public',
      before: [addressLimit],
      body: enableSchema,
      async handler({ req, res, body }) {
        const { user, challengeId } = await enrolee(req, body.mfaToken);
        const wait = limited(res, [perUserCode.retryAfter(user.id)]);
        if (wait) throw wait;
        let recoveryCodes: string[];
        try {
          recoveryCodes = await tf.enable(user.id, body.code);
        } catch (e) {
          if ((e as { code?: string }).code === 'ERR_VALIDATION') {
            perUserCode.fail(user.id);
            if (challengeId) await tf.failed(challengeId);
            audit(req, principalOf(user), '2fa-enable-failed');
          }
          throw e;
        }
        perUserCode.succeed(user.id);
        if (challengeId === null) {
          const me = req.user!;
          const sessionsEnded = await ctx.sessions.revokeAllOf(user.id, me.sid);
          audit(req, principalOf(user), '2fa-enable', { sessionsEnded });
          return { recoveryCodes, sessionsEnded };
        }
        // The enrolment completes the login it interrupted.
        await tf.spend(challengeId);
        const sessionsEnded = await ctx.sessions.revokeAllOf(user.id);
        audit(req, principalOf(user), '2fa-enable', { sessionsEnded, enrolment: true });
        perAccount.succeed(`${ipOf(req)}|${user.email}`);
        const session = await ctx.sessions.create(user.id, req.ip ?? null);
        return { recoveryCodes, ...(await shared.signedIn(user, session.sid, session.refreshToken, 'login', req, { mfa: 'enrolled' })) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/auth/2fa',
      tag,
      summary: "Turn two-factor sign-in off with a current code (TOTP or an unused recovery code); refused for a role that requires it",
      permission: 'authenticated',
      body: disableSchema,
      async handler({ req, res, user: me, body }) {
        const wait = limited(res, [perUserCode.retryAfter(me.id)]);
        if (wait) throw wait;
        if (tf.isRequired(me.role)) throw Errors.forbidden(`two-factor sign-in is required for role '${me.role}' (REQUIRE_2FA_ROLES): it cannot be turned off`);
        if (!(await tf.isEnabled(me.id))) throw fail('ERR_ILLEGAL_TRANSITION', 'two-factor sign-in is not on for this account');
        const r = await tf.check(me.id, body.code);
        if (!r.ok) {
          perUserCode.fail(me.id);
          audit(req, me, '2fa-disable-failed', { reason: r.reason });
          const problem = codeProblem(r);
          throw Errors.validation(`body.code: ${problem}`, [{ path: 'body.code', message: problem }]);
        }
        perUserCode.succeed(me.id);
        if (r.method === 'recovery') audit(req, me, '2fa-recovery-used', { left: r.recoveryCodesLeft });
        await tf.disable(me.id);
        audit(req, me, '2fa-disable', { method: r.method });
        return { enabled: false };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/2fa/verify',
      tag,
      summary: "The code step of a login: the login's mfaToken and a TOTP code (±30 s, each once) or an unused recovery code → the usual tokens",
      permission: 'public',
      before: [addressLimit],
      body: verifySchema,
      async handler({ req, res, body }) {
        const ip = ipOf(req);
        const c = await tf.open(body.mfaToken, 'verify');
        if (!c.ok) {
          perAddress.fail(ip);
          throw Errors.unauthenticated(
            c.reason === 'wrong-purpose'
              ? 'this mfaToken is for setting up two-factor sign-in: POST /api/auth/2fa/setup, then /api/auth/2fa/enable'
              : 'invalid, expired or already used mfaToken: log in again',
          );
        }
        const user = await findUserById(ctx.db.driver, c.challenge.userId);
        if (!user) throw Errors.unauthenticated('invalid, expired or already used mfaToken: log in again');
        const key = `${ip}|${user.email}`;
        const wait = limited(res, [perAccount.retryAfter(key), perAddress.retryAfter(ip), perUserCode.retryAfter(user.id)]);
        if (wait) throw wait;
        const p = principalOf(user);
        const r = await tf.check(user.id, body.code);
        if (!r.ok) {
          perAccount.fail(key);
          perAddress.fail(ip);
          perUserCode.fail(user.id);
          const mfaTokenSpent = await tf.failed(c.challenge.id);
          audit(req, p, '2fa-verify-failed', { reason: r.reason, mfaTokenSpent });
          throw fail('ERR_BAD_CODE', `code ${codeProblem(r)}${mfaTokenSpent ? '; too many wrong codes for this login: log in again' : ''}`, { mfaTokenSpent });
        }
        // Two requests with one token: one login.
        if (!(await tf.spend(c.challenge.id))) throw Errors.unauthenticated('invalid, expired or already used mfaToken: log in again');
        perAccount.succeed(key);
        perUserCode.succeed(user.id);
        audit(req, p, '2fa-verify', { method: r.method });
        if (r.method === 'recovery') audit(req, p, '2fa-recovery-used', { left: r.recoveryCodesLeft });
        const session = await ctx.sessions.create(user.id, req.ip ?? null);
        const done = await shared.signedIn(user, session.sid, session.refreshToken, 'login', req, { mfa: r.method });
        return r.method === 'recovery' ? { ...done, recoveryCodesLeft: r.recoveryCodesLeft } : done;
      },
    }),
  ];
}
