// Two-factor sign-in end to end through the running server, with real TOTP codes computed by a TOTP
// library (otpauth) from the secret the server handed out: enrolment, the two-step login, wrong and
// reused codes, recovery codes once only, turning it off, the lockout, REQUIRE_2FA_ROLES, and an
// mfaToken that opens nothing else and works once.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The code of `secret` for the time step `offset` steps from now (as an authenticator app shows it). */
const codeAt = (secret: string, offset = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: Date.now() + offset * 30_000 });

/** Wait, when the current 30-second step ends within 6 s, for the next: the codes of a scenario then stay in the server's ±1 window. */
async function freshStep(): Promise<void> {
  const left = TOTP.remaining({ period: 30 });
  if (left < 6000) await sleep(left + 200);
}

/** A code that is none of the accepted ones (now ±1 step). */
function wrongCode(secret: string): string {
  const taken = new Set([-1, 0, 1].map((o) => codeAt(secret, o)));
  for (let n = 0; ; n++) {
    const c = String(n).padStart(6, '0');
    if (!taken.has(c)) return c;
  }
}

describe.each<DbKind>(['pglite', 'postgres'])('two-factor sign-in on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
  });
  afterAll(async () => stack?.close());

  const login = (email: string, password: string) => stack.api('POST', '/api/auth/login', { email, password }, null);
  const verify = (mfaToken: string, code: string) => stack.api('POST', '/api/auth/2fa/verify', { mfaToken, code }, null);
  /** A nurse account with 2FA on: its secret, recovery codes and a signed-in token. */
  async function enrolled(name: string) {
    const email = `${name}-${kind}@test.local`;
    const password = `${name}-pass-word-1`;
    expect((await stack.api('POST', '/api/auth/register', { email, name: `Nurse ${name}`, password, role: 'nurse' })).status).toBe(201);
    const token = (await login(email, password)).body.token as string;
    await freshStep();
    const setup = await stack.api('POST', '/api/auth/2fa/setup', undefined, token);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    const on = await stack.api('POST', '/api/auth/2fa/enable', { code: codeAt(secret, -1) }, token);
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    return { email, password, secret, token, recoveryCodes: on.body.recoveryCodes as string[] };
  }
  const auditActions = async (userId: string) =>
    ((await stack.api('GET', '/api/audit?limit=500')).body.items as { action: string; resourceId: string; actorId: string }[])
      .filter((i) => i.resourceId === userId)
      .map((i) => i.action);

  it('enrols with a real authenticator code and then logs in in two steps; a wrong or reused code is refused', async () => {
    const email = `ada-${kind}@test.local`;
    const password = 'ada-pass-word-1';
    expect((await stack.api('POST', '/api/auth/register', { email, name: 'Ada Nurse', password, role: 'nurse' })).status).toBe(201);
    const first = await login(email, password);
    expect(first.body.token).toEqual(expect.any(String));
    const token = first.body.token as string;
    expect((await stack.api('GET', '/api/auth/2fa', undefined, token)).body).toEqual({ enabled: false, recoveryCodesLeft: null, required: false });

    await freshStep();
    const setup = await stack.api('POST', '/api/auth/2fa/setup', undefined, token);
    expect(setup.status).toBe(200);
    const secret = setup.body.secret as string;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauthUri).toBe(`otpauth://totp/WardPulse:${encodeURIComponent(email)}?issuer=WardPulse&secret=${secret}&algorithm=SHA1&digits=6&period=30`);
    // Not on until confirmed: the login is still one step.
    expect((await login(email, password)).body.token).toEqual(expect.any(String));
    // Without a token, or with a wrong code, nothing is enabled.
    expect((await stack.api('POST', '/api/auth/2fa/enable', { code: codeAt(secret) }, null)).status).toBe(401);
    const bad = await stack.api('POST', '/api/auth/2fa/enable', { code: wrongCode(secret) }, token);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', details: [{ path: 'body.code' }] } } });
    expect((await stack.api('POST', '/api/auth/2fa/enable', {}, token)).body.error.message).toBe('body.code: Invalid input: expected string, received undefined');

    const enableCode = codeAt(secret, -1);
    const on = await stack.api('POST', '/api/auth/2fa/enable', { code: enableCode }, token);
    expect(on).toMatchObject({ status: 200, body: { sessionsEnded: 1 } });
    const codes = on.body.recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    // The session that enabled it stays; the one opened before (password only) has ended.
    expect((await stack.api('GET', '/api/auth/me', undefined, token)).status).toBe(200);
    expect((await stack.api('GET', '/api/auth/2fa', undefined, token)).body).toEqual({ enabled: true, recoveryCodesLeft: 10, required: false });
    expect((await stack.api('POST', '/api/auth/2fa/setup', undefined, token))).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION' } } });
    expect((await stack.api('POST', '/api/auth/2fa/enable', { code: codeAt(secret) }, token)).status).toBe(409);

    // Step one: the password gives a challenge, no tokens.
    const step1 = await login(email, password);
    expect(step1.status).toBe(200);
    expect(step1.body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), mfaExpiresIn: 300 });
    const mfaToken = step1.body.mfaToken as string;
    // The challenge opens nothing else.
    expect((await stack.api('GET', '/api/auth/me', undefined, mfaToken)).status).toBe(401);
    expect((await stack.api('GET', '/api/patients', undefined, mfaToken)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: mfaToken }, null)).status).toBe(401);
    expect((await stack.api('POST', '/api/auth/2fa/setup', { mfaToken }, null))).toMatchObject({ status: 401, body: { error: { message: /for the code step of a login/ } } });

    const wrong = await verify(mfaToken, wrongCode(secret));
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE', details: { mfaTokenSpent: false } } } });
    // The code that enabled it is spent.
    const reused = await verify(mfaToken, enableCode);
    expect(reused).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE', message: /already used/ } } });
    const ok = await verify(mfaToken, codeAt(secret));
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String), expiresIn: 43200, user: { email, role: 'nurse' } });
    expect((await stack.api('GET', '/api/auth/me', undefined, ok.body.token)).status).toBe(200);
    expect((await stack.api('POST', '/api/auth/refresh', { refreshToken: ok.body.refreshToken }, null)).status).toBe(200);
    // The challenge was spent by its login.
    expect(await verify(mfaToken, codeAt(secret, 1))).toMatchObject({ status: 401, body: { error: { code: 'ERR_UNAUTHENTICATED' } } });

    // The same code again, on a new login: refused within its window; the next step's code works.
    const again = (await login(email, password)).body.mfaToken as string;
    expect(await verify(again, codeAt(secret))).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE' } } });
    expect((await verify(again, codeAt(secret, 1))).status).toBe(200);

    // Malformed input is a precise 400, an unknown token a 401.
    expect((await stack.api('POST', '/api/auth/2fa/verify', { mfaToken: again }, null)).body.error).toMatchObject({ code: 'ERR_VALIDATION', message: /body\.code/ });
    expect((await verify('nonsense', '123456')).status).toBe(401);
    expect((await verify('00000000-0000-4000-8000-000000000000.x', '123456')).status).toBe(401);

    const userId = ok.body.user.id as string;
    const actions = await auditActions(userId);
    expect(actions).toEqual(expect.arrayContaining(['2fa-setup', '2fa-enable-failed', '2fa-enable', 'login-2fa-required', '2fa-verify-failed', '2fa-verify', 'login']));
  });

  it('takes each recovery code once, and turns 2FA off only with a current code', async () => {
    const a = await enrolled('rec');
    const step1 = (await login(a.email, a.password)).body.mfaToken as string;
    // Typed loosely: lower case, no dash.
    const used = a.recoveryCodes[0]!;
    const r1 = await verify(step1, used.toLowerCase().replace('-', ''));
    expect(r1).toMatchObject({ status: 200, body: { recoveryCodesLeft: 9, token: expect.any(String) } });
    const step2 = (await login(a.email, a.password)).body.mfaToken as string;
    expect(await verify(step2, used)).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE' } } });
    expect(await verify(step2, 'AAAAA-AAAAA')).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE' } } });
    expect((await stack.api('GET', '/api/auth/2fa', undefined, r1.body.token)).body.recoveryCodesLeft).toBe(9);

    const me = r1.body.token as string;
    const wrong = await stack.api('DELETE', '/api/auth/2fa', { code: used }, me);
    expect(wrong).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', details: [{ path: 'body.code' }] } } });
    expect((await stack.api('DELETE', '/api/auth/2fa', {}, me)).status).toBe(400);
    expect((await stack.api('DELETE', '/api/auth/2fa', { code: a.recoveryCodes[1] }, null)).status).toBe(401);
    expect(await stack.api('DELETE', '/api/auth/2fa', { code: a.recoveryCodes[1] }, me)).toMatchObject({ status: 200, body: { enabled: false } });
    expect(await stack.api('DELETE', '/api/auth/2fa', { code: a.recoveryCodes[2] }, me)).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION' } } });
    // Off: the password alone signs in again, and the old recovery codes are gone.
    expect((await login(a.email, a.password)).body.token).toEqual(expect.any(String));
    expect((await stack.api('GET', '/api/auth/2fa', undefined, me)).body).toEqual({ enabled: false, recoveryCodesLeft: null, required: false });

    const actions = await auditActions(r1.body.user.id);
    expect(actions.filter((x) => x === '2fa-recovery-used')).toHaveLength(2);
    expect(actions).toEqual(expect.arrayContaining(['2fa-disable-failed', '2fa-disable']));
  });

  it('counts wrong codes toward the login lockout: a challenge dies after 5, the account locks after 10', async () => {
    const a = await enrolled('lock');
    const first = (await login(a.email, a.password)).body.mfaToken as string;
    const wrong = wrongCode(a.secret);
    for (let i = 1; i <= 4; i++) expect((await verify(first, wrong)).body.error.details).toEqual({ mfaTokenSpent: false });
    const fifth = await verify(first, wrong);
    expect(fifth).toMatchObject({ status: 401, body: { error: { code: 'ERR_BAD_CODE', message: /log in again/, details: { mfaTokenSpent: true } } } });
    // Spent: even the right code is refused on it.
    expect(await verify(first, codeAt(a.secret))).toMatchObject({ status: 401, body: { error: { code: 'ERR_UNAUTHENTICATED' } } });
    // Logging in again with the right password does not clear the count.
    const second = (await login(a.email, a.password)).body.mfaToken as string;
    for (let i = 0; i < 5; i++) expect((await verify(second, wrong)).status).toBe(401);
    const locked = await fetch(`${stack.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: a.email, password: a.password }) });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('two-factor sign-in required for a role (REQUIRE_2FA_ROLES=doctor)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('postgres', inject('pgUrl'), { REQUIRE_2FA_ROLES: 'doctor, pharmacist' });
  });
  afterAll(async () => stack?.close());

  it('makes a doctor enrol at login with a token that only sets up 2FA, then logs in in two steps; an admin can reset it', async () => {
    const email = 'dr.who@test.local';
    const password = 'doctor-pass-word-1';
    const created = await stack.api('POST', '/api/auth/register', { email, name: 'Dr Who', password, role: 'doctor' });
    expect(created.status).toBe(201);
    const doctorId = created.body.id as string;

    const step1 = await stack.api('POST', '/api/auth/login', { email, password }, null);
    expect(step1).toMatchObject({ status: 200, body: { mfaEnrolmentRequired: true, mfaToken: expect.any(String), mfaExpiresIn: 900 } });
    expect(step1.body.token).toBeUndefined();
    const mfaToken = step1.body.mfaToken as string;
    expect((await stack.api('GET', '/api/auth/me', undefined, mfaToken)).status).toBe(401);
    expect((await stack.api('GET', '/api/patients', undefined, mfaToken)).status).toBe(401);
    expect(await stack.api('POST', '/api/auth/2fa/verify', { mfaToken, code: '123456' }, null)).toMatchObject({ status: 401, body: { error: { message: /for setting up/ } } });

    await freshStep();
    const setup = await stack.api('POST', '/api/auth/2fa/setup', { mfaToken }, null);
    expect(setup.status, JSON.stringify(setup.body)).toBe(200);
    const secret = setup.body.secret as string;
    expect(await stack.api('POST', '/api/auth/2fa/enable', { mfaToken, code: wrongCode(secret) }, null)).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
    const on = await stack.api('POST', '/api/auth/2fa/enable', { mfaToken, code: codeAt(secret, -1) }, null);
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect(on.body).toMatchObject({ token: expect.any(String), refreshToken: expect.any(String), user: { id: doctorId, role: 'doctor' } });
    expect(on.body.recoveryCodes).toHaveLength(10);
    const token = on.body.token as string;
    expect((await stack.api('GET', '/api/auth/2fa', undefined, token)).body).toEqual({ enabled: true, recoveryCodesLeft: 10, required: true });
    // The enrolment token was spent by the login it completed.
    expect((await stack.api('POST', '/api/auth/2fa/setup', { mfaToken }, null)).status).toBe(401);
    // A required role cannot turn it off.
    expect(await stack.api('DELETE', '/api/auth/2fa', { code: on.body.recoveryCodes[0] }, token)).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN', message: /required for role 'doctor'/ } } });

    const next = await stack.api('POST', '/api/auth/login', { email, password }, null);
    expect(next.body).toMatchObject({ mfaRequired: true });
    expect((await stack.api('POST', '/api/auth/2fa/verify', { mfaToken: next.body.mfaToken, code: codeAt(secret) }, null)).status).toBe(200);

    // The admin (not a required role) logs in with a password only; it resets the doctor's 2FA.
    expect(await stack.api('DELETE', `/api/users/${doctorId}/2fa`)).toMatchObject({ status: 200, body: { id: doctorId, enabled: false } });
    expect((await stack.api('DELETE', `/api/users/${doctorId}/2fa`)).status).toBe(409);
    expect((await stack.api('DELETE', '/api/users/00000000-0000-4000-8000-000000000000/2fa')).status).toBe(404);
    // Without 2FA the doctor's session is not extended, and the next login enrols again.
    expect(await stack.api('POST', '/api/auth/refresh', { refreshToken: on.body.refreshToken }, null)).toMatchObject({ status: 401, body: { error: { message: /required for role 'doctor'/ } } });
    expect((await stack.api('POST', '/api/auth/login', { email, password }, null)).body).toMatchObject({ mfaEnrolmentRequired: true });

    const actions = ((await stack.api('GET', '/api/audit?limit=200')).body.items as { action: string; resourceId: string }[]).filter((i) => i.resourceId === doctorId).map((i) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['login-2fa-enrolment-required', '2fa-setup', '2fa-enable', '2fa-reset', 'refresh-2fa-required']));
  });
});
