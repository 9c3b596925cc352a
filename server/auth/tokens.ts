// Access tokens: HS256 JWTs (jose), signed with JWT_SECRET or a secret generated once and kept
// in DATA_DIR. The same token authenticates REST calls and Socket.IO connections.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import { generateSecret } from './passwords.ts';
import type { Role } from '../../db/records.ts';

export interface Principal {
  id: string;
  role: Role;
  email: string;
  name: string;
}

export interface TokenService {
  sign(p: Principal): Promise<string>;
  /** The principal, or null for a missing, forged or expired token. */
  verify(token: string | undefined): Promise<Principal | null>;
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

/** `kioskTtl` applies to the display-only role: a wall display is logged in once and left running. */
export function createTokenService(secret: string, ttl: string, kioskTtl = ttl): TokenService {
  const key = new TextEncoder().encode(secret);
  return {
    sign: (p) =>
      new SignJWT({ role: p.role, email: p.email, name: p.name })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(p.id)
        .setIssuer('wardpulse')
        .setIssuedAt()
        .setExpirationTime(p.role === 'kiosk' ? kioskTtl : ttl)
        .sign(key),
    async verify(token) {
      if (!token) return null;
      try {
        const { payload } = await jwtVerify(token, key, { issuer: 'wardpulse', algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.role !== 'string') return null;
        return { id: payload.sub, role: payload.role as Role, email: String(payload.email ?? ''), name: String(payload.name ?? '') };
      } catch {
        return null;
      }
    },
  };
}
