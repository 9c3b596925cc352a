// Passwords at rest (chosen by people): scrypt with its own salt, compared in constant time.
// Format scrypt$N$r$p$saltB64$hashB64 — parameters travel with the hash so they can be raised
// later. Device secrets (generated, 192 random bits) are hashed by the broker:
// broker/device-secrets.ts (ADR 0019).
import { randomBytes } from 'node:crypto';
import { scryptHash, verifyScryptHash } from '../../broker/scrypt-hash.ts';

export function hashSecret(secret: string): Promise<string> {
  return scryptHash(secret);
}

/** Whether `secret` is the password `stored` was made from; false for any malformed hash. */
export function verifySecret(secret: string, stored: string): Promise<boolean> {
  return verifyScryptHash(secret, stored);
}

/** A generated password or key: random bytes, URL-safe (device secrets: broker/device-secrets.ts). */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
