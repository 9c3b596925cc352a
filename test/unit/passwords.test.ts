import { describe, expect, it } from 'vitest';
import { generateSecret, hashDeviceSecret, hashSecret, verifySecret } from '../../server/auth/passwords.ts';

describe('secrets at rest', () => {
  it('device secrets: salted SHA-256, right secret only, a new salt each time', async () => {
    const secret = generateSecret();
    const a = hashDeviceSecret(secret);
    const b = hashDeviceSecret(secret);
    expect(a).toMatch(/^sha256\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(a).not.toBe(b);
    expect(await verifySecret(secret, a)).toBe(true);
    expect(await verifySecret(secret, b)).toBe(true);
    expect(await verifySecret(`${secret}x`, a)).toBe(false);
    expect(await verifySecret('', a)).toBe(false);
  });

  it('a device hash stored as scrypt before the change still verifies', async () => {
    const secret = generateSecret();
    const legacy = await hashSecret(secret);
    expect(legacy.startsWith('scrypt$')).toBe(true);
    expect(await verifySecret(secret, legacy)).toBe(true);
    expect(await verifySecret('wrong', legacy)).toBe(false);
  });

  it('a malformed stored hash verifies nothing', async () => {
    for (const stored of ['', 'sha256$', 'sha256$abc', 'md5$a$b', 'sha256$$']) expect(await verifySecret('x', stored)).toBe(false);
  });
});
