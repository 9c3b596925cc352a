// Accounts and sessions end to end: patient self-registration and scoping, staff registration by
// an admin, refresh rotation and reuse, logout (REST and Socket.IO), password change, rate limit.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN, connectSocket, eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('accounts and sessions on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
  });
  afterAll(async () => stack?.close());

  const register = (body: Record<string, unknown>, token: string | null = null) => stack.api('POST', '/api/auth/register', body, token);
  const fullLogin = async (email: string, password: string) => {
    const r = await stack.api('POST', '/api/auth/login', { email, password }, null);
    expect(r.status).toBe(200);
    return r.body as { token: string; refreshToken: string; expiresIn: number; user: { id: string; role: string; patientId?: string } };
  };

  it('lets a patient register and see only their own record; a family link grants access to a member', async () => {
    const reg = await register({ email: `Pat.One-${kind}@test.local`, name: 'Pat One', password: 'patient-pass-1', dateOfBirth: '1980-02-03', phone: '+44 20 7946 0000' });
    expect(reg.status).toBe(201);
    expect(reg.body.user).toMatchObject({ email: `pat.one-${kind}@test.local`, role: 'patient' });
    const own = reg.body.patientId as string;
    const other = (await register({ email: `pat.two-${kind}@test.local`, name: 'Pat Two', password: 'patient-pass-2' })).body.patientId as string;

    const login = await fullLogin(`pat.one-${kind}@test.local`, 'patient-pass-1');
    expect(login.user).toMatchObject({ role: 'patient', patientId: own });
    expect((await stack.api('GET', '/api/auth/me', undefined, login.token)).body.user.patientId).toBe(own);

    const mine = await stack.api('GET', `/api/patients/${own}`, undefined, login.token);
    expect(mine).toMatchObject({ status: 200, body: { id: own, name: 'Pat One', ward: null, dateOfBirth: '1980-02-03' } });
    const list = await stack.api('GET', '/api/patients', undefined, login.token);
    expect(list.body.items.map((p: any) => p.id)).toEqual([own]);
    // Someone else's record answers exactly like a missing one.
    const theirs = await stack.api('GET', `/api/patients/${other}`, undefined, login.token);
    const missing = await stack.api('GET', '/api/patients/00000000-0000-4000-8000-000000000000', undefined, login.token);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error.code).toBe(missing.body.error.code);

    // A patient may not link family; the desk (here the admin) may.
    expect((await stack.api('POST', `/api/patients/${own}/family`, { memberId: other, relation: 'child' }, login.token)).status).toBe(403);
    const link = await stack.api('POST', `/api/patients/${own}/family`, { memberId: other, relation: 'child' });
    expect(link).toMatchObject({ status: 201, body: { patientId: own, memberId: other, relation: 'child' } });
    const again = await stack.api('POST', `/api/patients/${own}/family`, { memberId: other, relation: 'child' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'ERR_DUPLICATE' } } });
    expect((await stack.api('POST', `/api/patients/${own}/family`, { memberId: own, relation: 'self' })).status).toBe(400);
    expect((await stack.api('GET', `/api/patients/${other}`, undefined, login.token)).status).toBe(200);
    expect((await stack.api('GET', `/api/patients/${own}/family`, undefined, login.token)).body.items).toEqual([
      { patientId: own, memberId: other, relation: 'child', memberName: 'Pat Two' },
    ]);
    // One-way: the member's own account does not see the linking patient.
    const two = await fullLogin(`pat.two-${kind}@test.local`, 'patient-pass-2');
    expect((await stack.api('GET', `/api/patients/${own}`, undefined, two.token)).status).toBe(404);

    expect((await stack.api('DELETE', `/api/patients/${own}/family/${other}`)).status).toBe(200);
    expect((await stack.api('DELETE', `/api/patients/${own}/family/${other}`)).status).toBe(404);
    expect((await stack.api('GET', `/api/patients/${other}`, undefined, login.token)).status).toBe(404);

    const trail = await eventually(async () => {
      const items = (await stack.api('GET', `/api/audit?patientId=${own}`)).body.items as any[];
      return items.some((i) => i.action === 'delete' && i.resource === 'family link') ? items : null;
    }, 5000, 'family audit rows');
    expect(trail.map((i) => `${i.action} ${i.resource}`)).toEqual(expect.arrayContaining(['register user', 'create family link', 'read patient']));
  });

  it('keeps staff registration admin-only and does not reveal more than needed on duplicates', async () => {
    const staff = { email: `doc-${kind}@test.local`, name: 'Doc', password: 'doctor-pass-1', role: 'doctor' };
    expect((await register(staff)).status).toBe(403);
    const patient = await register({ email: `pat.three-${kind}@test.local`, name: 'Pat Three', password: 'patient-pass-3' });
    const patientToken = await stack.login(`pat.three-${kind}@test.local`, 'patient-pass-3');
    expect((await register(staff, patientToken)).status).toBe(403);
    expect((await register({ ...staff, role: 'superuser' }, patientToken)).status).toBe(403);
    expect((await register(staff, 'not.a.token')).status).toBe(401);
    const created = await register(staff, stack.adminToken);
    expect(created).toMatchObject({ status: 201, body: { email: staff.email, role: 'doctor' } });
    expect((await register(staff, stack.adminToken)).status).toBe(409);
    expect((await register({ ...staff, role: 'superuser' }, stack.adminToken)).status).toBe(400);

    const dup = await register({ email: `pat.three-${kind}@test.local`, name: 'Someone', password: 'another-pass-1' });
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'ERR_DUPLICATE', message: 'this e-mail address cannot be registered' } } });
    expect((await register({ email: 'bad', name: '', password: 'short' })).body.error.message).toMatch(/body\.email.*body\.name.*body\.password/);
    expect(patient.status).toBe(201);
  });

  it('rotates refresh tokens, refuses reuse of an old one and then ends the session', async () => {
    const first = await fullLogin(ADMIN.email, ADMIN.password);
    expect(first.expiresIn).toBe(12 * 3600);
    const second = await stack.api('POST', '/api/auth/refresh', { refreshToken: first.refreshToken }, null);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await stack.api('GET', '/api/auth/me', undefined, second.body.token)).status).toBe(200);
    // The old refresh token is presented again: refused, and the whole session ends.
    const reuse = await stack.api('POST', '/api/auth/refresh', { refreshToken: first.refreshToken }, null);
    expect(reuse).toMatchObject({ status: 401, body: { error: { code: 'ERR_UNAUTHENTICATED' } } });
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: second.body.refreshToken }, null)).status).toBe(401);
    expect((await stack.api('GET', '/api/auth/me', undefined, second.body.token)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: 'garbage' }, null)).status).toBe(401);
  });

  it('logout makes the access token fail on REST and Socket.IO, and closes live connections', async () => {
    const s = await fullLogin(ADMIN.email, ADMIN.password);
    const live = await connectSocket(stack.base, s.token);
    const closed = new Promise<string>((resolve) => live.once('disconnect', (reason) => resolve(reason)));
    expect((await stack.api('POST', '/api/auth/logout', undefined, s.token)).status).toBe(204);
    expect((await stack.api('GET', '/api/patients', undefined, s.token)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: s.refreshToken }, null)).status).toBe(401);
    await expect(connectSocket(stack.base, s.token)).rejects.toThrow(/unauthorized/);
    expect(await closed).toBe('io server disconnect');
    // Other sessions of the same account are untouched.
    expect((await stack.api('GET', '/api/patients')).status).toBe(200);
    // The revocation outlives a restart.
    await stack.restart();
    expect((await stack.api('GET', '/api/patients', undefined, s.token)).status).toBe(401);
  });

  it('a password change ends the other sessions only', async () => {
    await register({ email: `nurse-pw-${kind}@test.local`, name: 'Nurse', password: 'nurse-pass-01', role: 'nurse' }, stack.adminToken);
    const a = await fullLogin(`nurse-pw-${kind}@test.local`, 'nurse-pass-01');
    const b = await fullLogin(`nurse-pw-${kind}@test.local`, 'nurse-pass-01');
    const wrong = await stack.api('PUT', '/api/auth/password', { currentPassword: 'nope-nope-nope', newPassword: 'nurse-pass-02' }, a.token);
    expect(wrong).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
    expect((await stack.api('PUT', '/api/auth/password', { currentPassword: 'nurse-pass-01', newPassword: 'short' }, a.token)).status).toBe(400);
    const ok = await stack.api('PUT', '/api/auth/password', { currentPassword: 'nurse-pass-01', newPassword: 'nurse-pass-02' }, a.token);
    expect(ok).toMatchObject({ status: 200, body: { sessionsEnded: 1 } });
    expect((await stack.api('GET', '/api/auth/me', undefined, a.token)).status).toBe(200);
    expect((await stack.api('GET', '/api/auth/me', undefined, b.token)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: b.refreshToken }, null)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: a.refreshToken }, null)).status).toBe(200);
    expect((await stack.api('POST', '/api/auth/login', { email: `nurse-pw-${kind}@test.local`, password: 'nurse-pass-01' }, null)).status).toBe(401);
    await fullLogin(`nurse-pw-${kind}@test.local`, 'nurse-pass-02');
  });

  it('answers wrong e-mail and wrong password alike, and rate-limits after 10 failures', async () => {
    await register({ email: `limited-${kind}@test.local`, name: 'Lim', password: 'limited-pass-1' });
    const unknown = await stack.api('POST', '/api/auth/login', { email: `nobody-${kind}@test.local`, password: 'wrong-pass' }, null);
    const wrong = await stack.api('POST', '/api/auth/login', { email: `limited-${kind}@test.local`, password: 'wrong-pass' }, null);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    for (let i = 0; i < 9; i++) expect((await stack.api('POST', '/api/auth/login', { email: `limited-${kind}@test.local`, password: `wrong-${i}` }, null)).status).toBe(401);
    // The 11th attempt is refused even with the right password.
    const limited = await fetch(`${stack.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `limited-${kind}@test.local`, password: 'limited-pass-1' }),
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as any).error.code).toBe('ERR_RATE_LIMITED');
  });
});
