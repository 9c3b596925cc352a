// POST /api/auth/login, POST /api/auth/register (staff, by an admin), GET /api/auth/me.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, authenticate, auditOf, handler } from './context.ts';
import { parse } from './validate.ts';
import { Errors } from '../errors.ts';
import { hashSecret, verifySecret } from '../auth/passwords.ts';
import { findUserByEmail, insertUser, type Role } from '../../db/records.ts';
import { DbError } from '../../db/driver.ts';

const loginSchema = z.strictObject({
  email: z.string().min(1, 'required').max(254),
  password: z.string().min(1, 'required').max(1024),
});

const STAFF_ROLES = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'kiosk'] as const satisfies readonly Role[];
const registerSchema = z.strictObject({
  email: z.email('must be an e-mail address').max(254),
  name: z.string().trim().min(1, 'required').max(200),
  password: z.string().min(10, 'must be at least 10 characters').max(1024),
  role: z.enum(STAFF_ROLES),
});

// A fixed hash to verify against when the e-mail is unknown, so both failures take as long.
const DUMMY_HASH = hashSecret('wardpulse-timing-equaliser');

/** Failed logins per client address and e-mail within a window. */
class LoginLimiter {
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
  const limiter = new LoginLimiter();

  r.post(
    '/login',
    handler(async (req, res) => {
      const body = parse(loginSchema, req.body, 'body');
      const key = `${req.ip}|${body.email.toLowerCase()}`;
      const wait = limiter.retryAfter(key);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        throw Errors.tooManyRequests(`too many failed logins; try again in ${wait} s`);
      }
      const user = await findUserByEmail(ctx.db.driver, body.email);
      const ok = await verifySecret(body.password, user?.passwordHash ?? (await DUMMY_HASH));
      if (!user || !ok) {
        limiter.fail(key);
        ctx.audit({ actorId: null, actorRole: null, action: 'login-failed', resource: 'auth', resourceId: null, ip: req.ip ?? null, details: { email: body.email.toLowerCase() } });
        throw Errors.badCredentials();
      }
      limiter.succeed(key);
      const principal = { id: user.id, role: user.role, email: user.email, name: user.name };
      const token = await ctx.tokens.sign(principal);
      ctx.audit({ ...auditOf(req, 'login', 'auth', user.id, null), actorId: user.id, actorRole: user.role });
      res.json({ token, user: principal });
    }),
  );

  r.post(
    '/register',
    authenticate(ctx),
    allow('users:create'),
    handler(async (req, res) => {
      const body = parse(registerSchema, req.body, 'body');
      try {
        const user = await insertUser(ctx.db.driver, {
          id: randomUUID(),
          email: body.email,
          name: body.name,
          role: body.role,
          passwordHash: await hashSecret(body.password),
        });
        ctx.audit(auditOf(req, 'create', 'user', user.id, null, { role: user.role }));
        res.status(201).json(user);
      } catch (err) {
        if (err instanceof DbError && err.code === '23505') throw Errors.conflict(`a user with e-mail '${body.email}' exists`);
        throw err;
      }
    }),
  );

  r.get('/me', authenticate(ctx), (req, res) => {
    res.json({ user: req.user });
  });

  return r;
}
