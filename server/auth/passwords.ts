// Secrets at rest, compared in constant time, each with its own salt.
// - Passwords (chosen by people): scrypt. Format scrypt$N$r$p$saltB64$hashB64 — parameters travel
//   with the hash so they can be raised later.
// - Device secrets (generated here, 192 random bits, never chosen by a person): salted SHA-256,
//   format sha256$saltB64$hashB64. A slow hash protects guessable secrets; against 2^192 it adds
//   nothing (NIST SP 800-63B §5.1.2.2 asks a key-derivation function only of look-up secrets under
//   112 bits), while scrypt at 46 ms a check made a 20,000-device fleet take minutes to reconnect.
//   Device hashes stored as scrypt before this change still verify.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))));

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** A device secret's hash: salted SHA-256 (the secret is 192 random bits; see the header). */
export function hashDeviceSecret(secret: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, secret).toString('base64')}`;
}

const sha256 = (salt: Buffer, secret: string) => createHash('sha256').update(salt).update(secret, 'utf8').digest();

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length === 3 && parts[0] === 'sha256') {
    const expected = Buffer.from(parts[2]!, 'base64');
    const actual = sha256(Buffer.from(parts[1]!, 'base64'), secret);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
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

/** A device secret or generated password: 24 random bytes, URL-safe. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
