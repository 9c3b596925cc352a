import { describe, expect, it } from 'vitest';
import { generateSecret, hashSecret, verifySecret } from '../../server/auth/passwords.ts';
import { hashDeviceSecret } from '../../broker/device-secrets.ts';

describe('passwords at rest', () => {
  it('scrypt, right password only, a new salt each time', async () => {
    const a = await hashSecret('correct horse battery');
    const b = await hashSecret('correct horse battery');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifySecret('correct horse battery', a)).toBe(true);
    expect(await verifySecret('correct horse battery', b)).toBe(true);
    expect(await verifySecret('correct horse batteryx', a)).toBe(false);
    expect(await verifySecret('', a)).toBe(false);
  });

  it('a password is never checked against a fast device-secret hash', async () => {
    const secret = generateSecret();
    expect(await verifySecret(secret, hashDeviceSecret(secret))).toBe(false);
  });

  it('a malformed stored hash verifies nothing', async () => {
    for (const stored of ['', 'scrypt$', 'scrypt$1$2$3$4', 'md5$a$b', 'sha256$$']) expect(await verifySecret('x', stored)).toBe(false);
  });
});
