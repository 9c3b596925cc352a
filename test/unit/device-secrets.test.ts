import { describe, expect, it } from 'vitest';
import { generateDeviceSecret, hashDeviceSecret, verifyDeviceSecret } from '../../broker/device-secrets.ts';
import { hashSecret } from '../../server/auth/passwords.ts';

describe('device secrets at rest (ADR 0019)', () => {
  it('a new secret is 24 random bytes, URL-safe', () => {
    const a = generateDeviceSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generateDeviceSecret()).not.toBe(a);
  });

  it('salted SHA-256, right secret only, a new salt each time', async () => {
    const secret = generateDeviceSecret();
    const a = hashDeviceSecret(secret);
    const b = hashDeviceSecret(secret);
    expect(a).toMatch(/^sha256\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(await verifyDeviceSecret(secret, a)).toBe(true);
    expect(await verifyDeviceSecret(secret, b)).toBe(true);
    expect(await verifyDeviceSecret(`${secret}x`, a)).toBe(false);
    expect(await verifyDeviceSecret('', a)).toBe(false);
  });

  it('a device hash stored as scrypt before the change still verifies', async () => {
    const secret = generateDeviceSecret();
    const legacy = await hashSecret(secret);
    expect(legacy.startsWith('scrypt$')).toBe(true);
    expect(await verifyDeviceSecret(secret, legacy)).toBe(true);
    expect(await verifyDeviceSecret('wrong', legacy)).toBe(false);
  });

  it('a malformed stored hash verifies nothing', async () => {
    for (const stored of ['', 'sha256$', 'sha256$abc', 'md5$a$b', 'sha256$$', 'scrypt$1$2']) expect(await verifyDeviceSecret('x', stored)).toBe(false);
  });
});
