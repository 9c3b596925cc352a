// One driver (PGlite): the password policy is checked before any query is made.
// Weak passwords are refused through the real server (issue 11, finding 11): patients registering
// themselves, staff created by an admin, a password change, and the admin bootstrap password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('password strength', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(async () => stack?.close());

  const refused = (r: { status: number; body: any }, field: string, reason: RegExp) => {
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    expect(r.body.error.message).toMatch(reason);
  };

  it('refuses a common password, the e-mail and the name at patient self-registration', async () => {
    refused(await stack.api('POST', '/api/auth/register', { email: 'pat@example.org', name: 'Pat Jones', password: 'Password123!' }, null), 'body.password', /commonly used password/);
    refused(await stack.api('POST', '/api/auth/register', { email: 'pat.jones@example.org', name: 'Pat Jones', password: 'pat.jones@example.org' }, null), 'body.password', /must not be your e-mail address/);
    refused(await stack.api('POST', '/api/auth/register', { email: 'pj@example.org', name: 'Patricia Jones', password: 'PatriciaJones1' }, null), 'body.password', /contains your name/);
    // Nothing was created: the same e-mail registers with a strong password.
    expect((await stack.api('POST', '/api/auth/register', { email: 'pat@example.org', name: 'Pat Jones', password: 'violet-harbour-lantern' }, null)).status).toBe(201);
  });

  it('refuses weak staff passwords set by an admin', async () => {
    refused(await stack.api('POST', '/api/auth/register', { email: 'dr.who@example.org', name: 'Doctor Who', password: 'qwertyuiop123', role: 'doctor' }), 'body.password', /too easy to guess/);
    refused(await stack.api('POST', '/api/auth/register', { email: 'kiosk@example.org', name: 'Kiosk', password: '1234567890', role: 'nurse' }), 'body.password', /too easy to guess/);
  });

  it('refuses a weak new password on change, keeping the old one', async () => {
    await stack.api('POST', '/api/auth/register', { email: 'nina.ward@example.org', name: 'Nina Ward', password: 'nurse-password-1', role: 'nurse' });
    const token = await stack.login('nina.ward@example.org', 'nurse-password-1');
    refused(await stack.api('PUT', '/api/auth/password', { currentPassword: 'nurse-password-1', newPassword: 'NinaWard2026' }, token), 'body.newPassword', /contains your name/);
    refused(await stack.api('PUT', '/api/auth/password', { currentPassword: 'nurse-password-1', newPassword: 'iloveyou123' }, token), 'body.newPassword', /too easy to guess/);
    expect((await stack.api('PUT', '/api/auth/password', { currentPassword: 'nurse-password-1', newPassword: 'copper-meadow-sixty-two' }, token)).status).toBe(200);
    expect(await stack.login('nina.ward@example.org', 'copper-meadow-sixty-two')).toBeTruthy();
  });

  it('refuses to start with a weak ADMIN_PASSWORD, without printing it', () => {
    try {
      loadConfig({ ADMIN_EMAIL: 'admin@example.org', ADMIN_PASSWORD: 'admin12345' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/ADMIN_PASSWORD: is too easy to guess/);
      expect((err as Error).message).not.toContain('admin12345');
    }
  });
});
