// Device secrets at rest (ADR 0019): made here, 192 random bits, never chosen by a person, so a
// salted SHA-256 compared in constant time protects them — a slow hash adds nothing against 2^192
// (NIST SP 800-63B §5.1.2.2 asks a key-derivation function only of look-up secrets under 112 bits),
// while scrypt at 46 ms a check made a 20,000-device fleet take minutes to reconnect.
// Format sha256$saltB64$hashB64. Device hashes stored before ADR 0019 as
// scrypt$N$r$p$saltB64$hashB64 still verify. People's passwords are in server/auth/passwords.ts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verifyScryptHash } from './scrypt-hash.ts';

/** 24 random bytes = 192 bits: the strength the choice of SHA-256 rests on. */
export const DEVICE_SECRET_BYTES = 24;

/** A new device secret, URL-safe; shown once at provisioning, only its hash is kept. */
export function generateDeviceSecret(): string {
  return randomBytes(DEVICE_SECRET_BYTES).toString('base64url');
}

/** A device secret's hash: salted SHA-256. */
export function hashDeviceSecret(secret: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, secret).toString('base64')}`;
}

const sha256 = (salt: Buffer, secret: string) => createHash('sha256').update(salt).update(secret, 'utf8').digest();

/** Whether `secret` is the device secret `stored` was made from; false for any malformed hash. */
export async function verifyDeviceSecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length === 3 && parts[0] === 'sha256') {
    const expected = Buffer.from(parts[2]!, 'base64');
    const actual = sha256(Buffer.from(parts[1]!, 'base64'), secret);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
  // A hash from before ADR 0019 (the same format as a password's).
  return verifyScryptHash(secret, stored);
}
