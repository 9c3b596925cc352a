// Access tokens: HS256 JWTs (jose), signed with JWT_SECRET or a secret generated once and kept
// in DATA_DIR. The same token authenticates REST calls and Socket.IO connections. A token names
// its session (`sid`); a revoked session's tokens are refused by an in-memory check, so verify()
// stays a signature check plus a set lookup (server/auth/sessions.ts keeps the set).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { generateSecret } from './passwords.ts';
import type { Principal, Role } from '../domain/roles.ts';

export interface TokenService {
  /** An access token; `sid` ties it to a session so logout can end it. */
  sign(p: Principal, opts?: { sid?: string }): Promise<string>;
  /** The principal, or null for a missing, forged, expired or revoked token. */
  verify(token: string | undefined): Promise<Principal | null>;
  /** Lifetime in seconds of the tokens signed for `role`. */
  expiresIn(role: Role): number;
}

export function loadJwtSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = generateSecret(48);
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** '12h' → 43200. The format is validated by the configuration ('\d+[smhd]'). */
export function ttlSeconds(ttl: string): number {
  const m = /^(\d+)([smhd])$/.exec(ttl);
  if (!m) throw new Error(`bad token lifetime '${ttl}'`);
  return Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
}

/**
 * `kioskTtl` applies to the display-only role: a wall display is logged in once and left running.
 * `isRevoked` is asked for every token that names a session.
 */
export function createTokenService(secret: string, ttl: string, kioskTtl = ttl, isRevoked: (sid: string) => boolean = () => false): TokenService {
  const key = new TextEncoder().encode(secret);
  const ttlOf = (role: Role) => (role === 'kiosk' ? kioskTtl : ttl);
  return {
    sign: (p, opts = {}) => {
      const sid = opts.sid ?? p.sid;
      return new SignJWT({ role: p.role, email: p.email, name: p.name, ...(sid ? { sid } : {}) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(p.id)
        .setIssuer('wardpulse')
        .setIssuedAt()
        .setExpirationTime(ttlOf(p.role))
        .sign(key);
    },
    async verify(token) {
      if (!token) return null;
      try {
        const { payload } = await jwtVerify(token, key, { issuer: 'wardpulse', algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.role !== 'string') return null;
        const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
        if (sid && isRevoked(sid)) return null;
        return { id: payload.sub, role: payload.role as Role, email: String(payload.email ?? ''), name: String(payload.name ?? ''), ...(sid ? { sid } : {}) };
      } catch {
        return null;
      }
    },
    expiresIn: (role) => ttlSeconds(ttlOf(role)),
  };
}
