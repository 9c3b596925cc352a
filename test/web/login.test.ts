// @vitest-environment happy-dom
// Component tests of <wp-login>: the password step, the code step after mfaRequired, a forced
// enrolment (key and otpauth link as text, the recovery codes once), and the server's refusals —
// a wrong code shown inline, a spent or expired challenge sending the user back to the password.
// The server calls are injected (`auth`), as <wp-alarm-actions> takes its `act`.
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../web/src/components/wp-login.ts';
import { groupSecret, type WpLogin } from '../../web/src/components/wp-login.ts';
import { ApiError, type AuthApi, type LoginStep } from '../../web/src/api.ts';
import type { Principal } from '../../server/domain/roles.ts';

const NURSE: Principal = { id: 'u1', role: 'nurse', email: 'nurse@test.local', name: 'A Nurse' };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const URI = `otpauth://totp/WardPulse:nurse%40test.local?issuer=WardPulse&secret=${SECRET}&algorithm=SHA1&digits=6&period=30`;

function fakeAuth(first: LoginStep, over: Partial<AuthApi> = {}): AuthApi {
  return {
    login: vi.fn<AuthApi['login']>(async () => first),
    verifyMfa: vi.fn<AuthApi['verifyMfa']>(async () => NURSE),
    setupMfa: vi.fn<AuthApi['setupMfa']>(async () => ({ secret: SECRET, otpauthUri: URI })),
    enableMfa: vi.fn<AuthApi['enableMfa']>(async () => ({ user: NURSE, recoveryCodes: ['AAAAA-BBBBB', 'CCCCC-DDDDD'] })),
    ...over,
  };
}

async function mount(auth: AuthApi): Promise<{ el: WpLogin; root: ShadowRoot; signedIn: Principal[] }> {
  const el = document.createElement('wp-login');
  el.auth = auth;
  const signedIn: Principal[] = [];
  document.body.addEventListener('logged-in', (e) => signedIn.push((e as CustomEvent<Principal>).detail));
  document.body.append(el);
  await el.updateComplete;
  return { el, root: el.shadowRoot!, signedIn };
}

/** Fill the named inputs of the form shown and submit it; wait for the answer to render. */
async function submit(el: WpLogin, fields: Record<string, string>): Promise<void> {
  const form = el.shadowRoot!.querySelector('form')!;
  for (const [name, value] of Object.entries(fields)) form.querySelector<HTMLInputElement>(`input[name="${name}"]`)!.value = value;
  form.dispatchEvent(new Event('submit', { cancelable: true }));
  await vi.waitFor(() => expect(el.busy).toBe(false));
  await el.updateComplete;
}

const title = (root: ShadowRoot) => root.querySelector('h1')!.textContent;
const alertText = (root: ShadowRoot) => root.querySelector('[role="alert"]')?.textContent ?? null;

afterEach(() => {
  document.body.innerHTML = '';
});

describe('<wp-login>', () => {
  it('signs in with the password alone when the account has no second step', async () => {
    const auth = fakeAuth({ kind: 'done', user: NURSE });
    const { el, signedIn } = await mount(auth);
    await submit(el, { email: 'nurse@test.local', password: 'pw-pw-pw-pw' });
    expect(auth.login).toHaveBeenCalledWith('nurse@test.local', 'pw-pw-pw-pw');
    expect(signedIn).toEqual([NURSE]);
  });

  it('asks for a code after mfaRequired and signs in with it; a wrong code is shown inline', async () => {
    const verifyMfa = vi
      .fn<AuthApi['verifyMfa']>()
      .mockRejectedValueOnce(new ApiError(401, 'ERR_BAD_CODE', 'code is not a current code of your authenticator or an unused recovery code', { mfaTokenSpent: false }))
      .mockResolvedValueOnce(NURSE);
    const auth = fakeAuth({ kind: 'mfa', mfaToken: 'challenge-1' }, { verifyMfa });
    const { el, root, signedIn } = await mount(auth);
    await submit(el, { email: 'nurse@test.local', password: 'pw-pw-pw-pw' });
    expect(title(root)).toBe('Two-step sign-in');
    const input = root.querySelector<HTMLInputElement>('input[name="code"]')!;
    expect(input.getAttribute('autocomplete')).toBe('one-time-code');
    expect(signedIn).toEqual([]);

    await submit(el, { code: '000000' });
    expect(alertText(root)).toMatch(/not a current code/);
    expect(title(root)).toBe('Two-step sign-in');
    await submit(el, { code: ' 123456 ' });
    expect(verifyMfa).toHaveBeenLastCalledWith('challenge-1', '123456');
    expect(signedIn).toEqual([NURSE]);
  });

  it('sends the user back to the password when the challenge is spent or has expired', async () => {
    const spent = new ApiError(401, 'ERR_BAD_CODE', 'code is not …; too many wrong codes for this login: log in again', { mfaTokenSpent: true });
    const { el, root } = await mount(fakeAuth({ kind: 'mfa', mfaToken: 't' }, { verifyMfa: vi.fn<AuthApi['verifyMfa']>().mockRejectedValue(spent) }));
    await submit(el, { email: 'a@b.c', password: 'x' });
    await submit(el, { code: '111111' });
    expect(title(root)).toBe('WardPulse');
    expect(alertText(root)).toBe('Too many wrong codes: sign in again.');

    const expired = new ApiError(401, 'ERR_UNAUTHENTICATED', 'invalid, expired or already used mfaToken: log in again');
    const second = await mount(fakeAuth({ kind: 'mfa', mfaToken: 't' }, { verifyMfa: vi.fn<AuthApi['verifyMfa']>().mockRejectedValue(expired) }));
    document.body.firstElementChild!.remove();
    await submit(second.el, { email: 'a@b.c', password: 'x' });
    await submit(second.el, { code: '111111' });
    expect(title(second.root)).toBe('WardPulse');
    expect(alertText(second.root)).toBe('This sign-in has expired: sign in again.');
  });

  it('walks a required enrolment: key and otpauth link as text, a first code, the recovery codes once, then signs in', async () => {
    const auth = fakeAuth({ kind: 'enrol', mfaToken: 'enrol-1' });
    const { el, root, signedIn } = await mount(auth);
    await submit(el, { email: 'nurse@test.local', password: 'pw-pw-pw-pw' });
    expect(auth.setupMfa).toHaveBeenCalledWith('enrol-1');
    expect(title(root)).toBe('Set up two-step sign-in');
    expect(root.querySelector('[aria-label="Secret key"]')!.textContent).toBe(groupSecret(SECRET));
    expect(groupSecret(SECRET)).toBe('JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
    expect(root.querySelector('[aria-label="otpauth link"]')!.textContent).toBe(URI);
    expect(root.querySelector('a')!.getAttribute('href')).toBe(URI);

    await submit(el, { code: '654321' });
    expect(auth.enableMfa).toHaveBeenCalledWith('enrol-1', '654321');
    expect(title(root)).toBe('Save your recovery codes');
    expect([...root.querySelectorAll('ol[aria-label="Recovery codes"] li')].map((li) => li.textContent)).toEqual(['AAAAA-BBBBB', 'CCCCC-DDDDD']);
    // Not signed in until the user says the codes are saved.
    expect(signedIn).toEqual([]);
    await submit(el, {});
    expect(signedIn).toEqual([NURSE]);
  });

  it('shows the rate limit as the server says it', async () => {
    const limited = new ApiError(429, 'ERR_RATE_LIMITED', 'too many failed attempts; try again in 840 s');
    const { el, root } = await mount(fakeAuth({ kind: 'done', user: NURSE }, { login: vi.fn<AuthApi['login']>().mockRejectedValue(limited) }));
    await submit(el, { email: 'a@b.c', password: 'x' });
    expect(alertText(root)).toBe('too many failed attempts; try again in 840 s');
  });
});
