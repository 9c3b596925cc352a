// Access tokens (server/auth/tokens.ts): a signed token verifies to the principal it was signed
// for, and nothing else does — expired, signed with another key, tampered with, unsigned, from
// another issuer, missing its subject or role, or naming a revoked session. Time is faked (Date
// only: jose reads the clock through Date, and its WebCrypto promises must run for real).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT, decodeJwt } from 'jose';
import { createTokenService, loadJwtSecret, ttlSeconds } from '../../server/auth/tokens.ts';
import type { Principal } from '../../server/domain/roles.ts';

const SECRET = 'a-test-secret-of-enough-length-for-hs256-0123456789';
const NURSE: Principal = { id: '6f1c1c9e-2f43-4a51-9f55-0c5d1a0e7b11', role: 'nurse', email: 'nurse@test.local', name: 'Nurse Test' };
const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const fromB64url = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;
/** A token signed with `key` as the server would, with `claims` changed. */
const forge = (claims: Record<string, unknown>, key = SECRET, issuer: string | null = 'wardpulse') => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h');
  if (issuer) jwt = jwt.setIssuer(issuer);
  return jwt.sign(new TextEncoder().encode(key));
};

afterEach(() => {
  vi.useRealTimers();
});

describe('sign and verify', () => {
  it('round-trips the principal', async () => {
    const tokens = createTokenService(SECRET, '1h');
    expect(await tokens.verify(await tokens.sign(NURSE))).toEqual(NURSE);
  });

  it('carries the session id, from the options or from the principal', async () => {
    const tokens = createTokenService(SECRET, '1h');
    expect(await tokens.verify(await tokens.sign(NURSE, { sid: 's-1' }))).toEqual({ ...NURSE, sid: 's-1' });
    expect(await tokens.verify(await tokens.sign({ ...NURSE, sid: 's-2' }))).toEqual({ ...NURSE, sid: 's-2' });
  });

  it('signs HS256 with issuer, subject, issued-at and expiry; no secret material in the payload', async () => {
    const tokens = createTokenService(SECRET, '1h');
    const token = await tokens.sign(NURSE);
    expect(fromB64url(token.split('.')[0]!)).toEqual({ alg: 'HS256' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: 'wardpulse', sub: NURSE.id, role: 'nurse', email: NURSE.email, name: NURSE.name });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(Object.keys(claims).sort()).toEqual(['email', 'exp', 'iat', 'iss', 'name', 'role', 'sub']);
  });

  it.each([undefined, '', 'not-a-jwt', 'a.b.c', '...'])('refuses %j without throwing', async (token) => {
    expect(await createTokenService(SECRET, '1h').verify(token)).toBeNull();
  });
});

describe('expiry', () => {
  it('accepts a token until its expiry and refuses it from then on', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const tokens = createTokenService(SECRET, '15m');
    const token = await tokens.sign(NURSE);
    vi.setSystemTime(T0 + 15 * 60_000 - 1000);
    expect(await tokens.verify(token)).toEqual(NURSE);
    vi.setSystemTime(T0 + 15 * 60_000);
    expect(await tokens.verify(token)).toBeNull();
    vi.setSystemTime(T0 + 24 * 3600_000);
    expect(await tokens.verify(token)).toBeNull();
  });

  it('gives the kiosk role its own lifetime, and every other role the ordinary one', async () => {
    const tokens = createTokenService(SECRET, '1h', '30d');
    expect(tokens.expiresIn('kiosk')).toBe(30 * 86400);
    expect(tokens.expiresIn('nurse')).toBe(3600);
    const kiosk = decodeJwt(await tokens.sign({ ...NURSE, role: 'kiosk' }));
    const nurse = decodeJwt(await tokens.sign(NURSE));
    expect(kiosk.exp! - kiosk.iat!).toBe(30 * 86400);
    expect(nurse.exp! - nurse.iat!).toBe(3600);
  });

  it('a kiosk token outlives the ordinary lifetime but not its own', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const tokens = createTokenService(SECRET, '1h', '2d');
    const kiosk = await tokens.sign({ ...NURSE, role: 'kiosk' });
    const nurse = await tokens.sign(NURSE);
    vi.setSystemTime(T0 + 2 * 3600_000);
    expect(await tokens.verify(nurse)).toBeNull();
    expect(await tokens.verify(kiosk)).not.toBeNull();
    vi.setSystemTime(T0 + 2 * 86400_000);
    expect(await tokens.verify(kiosk)).toBeNull();
  });

  it.each([
    ['30s', 30],
    ['15m', 900],
    ['12h', 43_200],
    ['7d', 604_800],
  ])('ttlSeconds(%s) = %i', (ttl, s) => expect(ttlSeconds(ttl)).toBe(s));

  it.each(['', '10', '1w', '-1h', '1.5h', ' 1h', 'h'])('ttlSeconds refuses %j', (ttl) => {
    expect(() => ttlSeconds(ttl)).toThrow(/bad token lifetime/);
  });
});

describe('forgeries', () => {
  it('refuses a token signed with another key', async () => {
    const other = createTokenService('another-secret-entirely-0123456789abcdef', '1h');
    expect(await createTokenService(SECRET, '1h').verify(await other.sign(NURSE))).toBeNull();
  });

  it('refuses a token whose payload was changed (a nurse made admin), signature kept', async () => {
    const tokens = createTokenService(SECRET, '1h');
    const [header, payload, signature] = (await tokens.sign(NURSE)).split('.') as [string, string, string];
    const raised = b64url(JSON.stringify({ ...fromB64url(payload), role: 'admin' }));
    expect(await tokens.verify(`${header}.${raised}.${signature}`)).toBeNull();
    // The untouched token still verifies: only the change made it fail.
    expect(await tokens.verify(`${header}.${payload}.${signature}`)).toEqual(NURSE);
  });

  it('refuses a token with a changed signature', async () => {
    const tokens = createTokenService(SECRET, '1h');
    const token = await tokens.sign(NURSE);
    // Change the signature's first character: its last one carries two padding bits that
    // base64url decoding ignores ('A' and 'B' can decode to the same bytes there).
    const at = token.lastIndexOf('.') + 1;
    const changed = token[at] === 'A' ? 'B' : 'A';
    expect(await tokens.verify(token.slice(0, at) + changed + token.slice(at + 1))).toBeNull();
    expect(await tokens.verify(token.slice(0, token.lastIndexOf('.') + 1))).toBeNull();
  });

  it("refuses an unsigned token (alg 'none')", async () => {
    const tokens = createTokenService(SECRET, '1h');
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'wardpulse', sub: NURSE.id, role: 'admin', email: 'x', name: 'x', iat: now, exp: now + 3600 };
    expect(await tokens.verify(`${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`)).toBeNull();
  });

  it('refuses a token of the right key but another algorithm (HS512)', async () => {
    const tokens = createTokenService(SECRET, '1h');
    const token = await new SignJWT({ role: 'nurse' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject(NURSE.id)
      .setIssuer('wardpulse')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect(await tokens.verify(token)).toBeNull();
  });

  it('refuses a token of the right key from another issuer, or naming none', async () => {
    const tokens = createTokenService(SECRET, '1h');
    expect(await tokens.verify(await forge({ sub: NURSE.id, role: 'nurse' }, SECRET, 'another-service'))).toBeNull();
    expect(await tokens.verify(await forge({ sub: NURSE.id, role: 'nurse' }, SECRET, null))).toBeNull();
    // The same claims from the right issuer pass: the issuer alone decided.
    expect(await tokens.verify(await forge({ sub: NURSE.id, role: 'nurse' }))).toMatchObject({ id: NURSE.id, role: 'nurse' });
  });

  it('refuses a correctly signed token without a subject or a role', async () => {
    const tokens = createTokenService(SECRET, '1h');
    expect(await tokens.verify(await forge({ role: 'nurse' }))).toBeNull();
    expect(await tokens.verify(await forge({ sub: NURSE.id }))).toBeNull();
    expect(await tokens.verify(await forge({ sub: NURSE.id, role: ['admin'] }))).toBeNull();
  });
});

describe('revoked sessions', () => {
  it("refuses a revoked session's tokens and asks only about tokens that name a session", async () => {
    const revoked = new Set(['s-dead']);
    const isRevoked = vi.fn((sid: string) => revoked.has(sid));
    const tokens = createTokenService(SECRET, '1h', '1h', isRevoked);
    expect(await tokens.verify(await tokens.sign(NURSE, { sid: 's-dead' }))).toBeNull();
    expect(await tokens.verify(await tokens.sign(NURSE, { sid: 's-live' }))).toEqual({ ...NURSE, sid: 's-live' });
    expect(isRevoked.mock.calls).toEqual([['s-dead'], ['s-live']]);
    expect(await tokens.verify(await tokens.sign(NURSE))).toEqual(NURSE);
    expect(isRevoked).toHaveBeenCalledTimes(2);
  });

  it('a session revoked after signing ends its tokens at once', async () => {
    const revoked = new Set<string>();
    const tokens = createTokenService(SECRET, '1h', '1h', (sid) => revoked.has(sid));
    const token = await tokens.sign(NURSE, { sid: 's-1' });
    expect(await tokens.verify(token)).not.toBeNull();
    revoked.add('s-1');
    expect(await tokens.verify(token)).toBeNull();
  });
});

describe('loadJwtSecret', () => {
  it('uses the configured secret; otherwise generates one once, private to the owner, and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wardpulse-jwt-'));
    try {
      expect(loadJwtSecret('configured', dir)).toBe('configured');
      const data = join(dir, 'data');
      const first = loadJwtSecret(undefined, data);
      expect(first.length).toBeGreaterThanOrEqual(64);
      expect(statSync(join(data, 'jwt-secret')).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(data, 'jwt-secret'), 'utf8')).toBe(first + '\n');
      expect(loadJwtSecret(undefined, data)).toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
