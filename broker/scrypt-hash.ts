// The scrypt hash format, `scrypt$N$r$p$saltB64$hashB64` (parameters travel with the hash so they
// can be raised later), made and checked in one place: people's passwords use it
// (server/auth/passwords.ts), and device hashes stored before ADR 0019 still carry it
// (device-secrets.ts). It lives in broker/ because the broker may not import from server/.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

/** `secret` hashed with a new 16-byte salt. */
export async function scryptHash(secret: string, p = { N: 16384, r: 8, p: 1, keylen: 32 }): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, p.keylen, { N: p.N, r: p.r, p: p.p });
  return `scrypt$${p.N}$${p.r}$${p.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `secret` is what the scrypt hash `stored` was made from; false for any other or malformed hash. */
export async function verifyScryptHash(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const actual = await scrypt(secret, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
