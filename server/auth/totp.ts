// TOTP (RFC 6238) as authenticator apps speak it: HMAC-SHA1, 6 digits, 30-second steps, a secret of
// 160 random bits (RFC 4226 §4 R6) handed over as base32 in an otpauth:// URI. The code check
// accepts one step either side for clock drift (RFC 6238 §5.2) and says which step matched, so the
// caller can refuse that step a second time (§5.2: "the verifier MUST NOT accept the second
// attempt of the same OTP"). Secrets at rest are sealed with AES-256-GCM under a server key;
// recovery codes are made and normalised here. No I/O.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps either side of now that are accepted (RFC 6238 §5.2, clock drift). */
export const TOTP_WINDOW = 1;
export const ISSUER = 'WardPulse';
export const RECOVERY_CODES = 10;

/** A new secret, base32 (what the user types into an app when a QR code cannot be scanned). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

const totpOf = (secretB32: string, label = '') =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secretB32), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_S });

/** `otpauth://totp/WardPulse:ada%40example.org?secret=…&issuer=WardPulse&…` (Key Uri Format). */
export function otpauthUri(secretB32: string, accountEmail: string): string {
  return totpOf(secretB32, accountEmail).toString();
}

/** The time step a code counts in at `nowMs`. */
export const stepAt = (nowMs: number) => Math.floor(nowMs / 1000 / TOTP_PERIOD_S);

/** Whether `code` looks like a TOTP code at all (else it may be a recovery code). */
export const isTotpShaped = (code: string) => /^\d{6}$/.test(code.replace(/\s+/g, ''));

/** The time step `code` belongs to (now ± TOTP_WINDOW), or null when it matches none. */
export function totpStep(secretB32: string, code: string, nowMs = Date.now()): number | null {
  const token = code.replace(/\s+/g, '');
  if (!isTotpShaped(token)) return null;
  const delta = totpOf(secretB32).validate({ token, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : stepAt(nowMs) + delta;
}

// ------------------------------------------------------------------ secrets at rest

/**
 * The 256-bit key that seals TOTP secrets: from TOTP_SECRET_KEY when set, else derived from the
 * token key (HKDF-SHA256, its own label) so a default install needs no new setting.
 */
export function totpKey(configured: string | undefined, jwtSecret: string): Buffer {
  const ikm = configured ?? jwtSecret;
  return Buffer.from(hkdfSync('sha256', ikm, 'wardpulse', 'totp-secret-seal v1', 32));
}

/** `v1$iv$tag$ciphertext` (base64): AES-256-GCM with a fresh 96-bit nonce, bound to the account. */
export function sealSecret(key: Buffer, secret: string, userId: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(userId));
  const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join('$');
}

/** The secret, or null when it was sealed under another key or for another account, or is malformed. */
export function openSecret(key: Buffer, sealed: string, userId: string): string | null {
  const [v, iv, tag, ct] = sealed.split('$');
  if (v !== 'v1' || !iv || !tag || ct === undefined) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    d.setAAD(Buffer.from(userId));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ recovery codes

// Crockford-style base32 without I, L, O, U: nothing to misread on paper.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Ten codes like `7K2QD-XM4PA` (50 random bits each), as shown to the user once. */
export function newRecoveryCodes(n = RECOVERY_CODES): string[] {
  return Array.from({ length: n }, () => {
    const bytes = randomBytes(10);
    const chars = [...bytes].map((b) => ALPHABET[b & 31]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** A typed recovery code as it is hashed: upper case, no spaces or dashes, O→0, I/L→1. */
export function normaliseRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]+/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
}

/** Whether a typed value could be a recovery code (before any hash is tried). */
export const isRecoveryShaped = (code: string) => /^[0-9A-HJKMNP-TV-Z]{10}$/.test(normaliseRecoveryCode(code));

/** sha256 hex, for the one-time login challenge tokens (random, so no slow hash is needed). */
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
