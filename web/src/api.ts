// REST client. The token lives in sessionStorage: it survives a reload of a wall display, and
// dies with the tab.
import type { Principal } from '../../server/domain/index.ts';

const TOKEN_KEY = 'wardpulse.token';
const USER_KEY = 'wardpulse.user';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details`, when the server sent some (e.g. `{ mfaTokenSpent }` on ERR_BAD_CODE). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user(): Principal | null {
    const raw = sessionStorage.getItem(USER_KEY);
    return raw ? (JSON.parse(raw) as Principal) : null;
  },
  set(token: string, user: Principal) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(user));
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

/** Fired when the server says the token is no longer valid: the app shows the login page. */
export const SESSION_EXPIRED = 'wardpulse:session-expired';

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = session.token;
  const res = await fetch(path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) {
    if (res.status === 401 && token) window.dispatchEvent(new CustomEvent(SESSION_EXPIRED));
    throw new ApiError(res.status, data?.error?.code ?? 'ERR_HTTP', data?.error?.message ?? res.statusText, data?.error?.details);
  }
  return data as T;
}

type SignedIn = { token: string; user: Principal };

/**
 * The password step of a login (docs/api.md "Two-factor sign-in"): signed in, or a second step —
 * a code (`mfa`), or setting up an authenticator first because the role requires it (`enrol`).
 */
export type LoginStep = { kind: 'done'; user: Principal } | { kind: 'mfa'; mfaToken: string } | { kind: 'enrol'; mfaToken: string };

export async function login(email: string, password: string): Promise<LoginStep> {
  const r = await api<SignedIn | { mfaRequired: true; mfaToken: string } | { mfaEnrolmentRequired: true; mfaToken: string }>('POST', '/api/auth/login', { email, password });
  if ('mfaRequired' in r) return { kind: 'mfa', mfaToken: r.mfaToken };
  if ('mfaEnrolmentRequired' in r) return { kind: 'enrol', mfaToken: r.mfaToken };
  session.set(r.token, r.user);
  return { kind: 'done', user: r.user };
}

/** The code step: a TOTP code or a recovery code with the login's mfaToken. */
export async function verifyMfa(mfaToken: string, code: string): Promise<Principal> {
  const r = await api<SignedIn>('POST', '/api/auth/2fa/verify', { mfaToken, code });
  session.set(r.token, r.user);
  return r.user;
}

/** A forced enrolment's first step: a new secret and its otpauth:// URI. */
export function setupMfa(mfaToken: string): Promise<{ secret: string; otpauthUri: string }> {
  return api('POST', '/api/auth/2fa/setup', { mfaToken });
}

/** A forced enrolment's second step: 2FA on, the login completed, the recovery codes (shown once). */
export async function enableMfa(mfaToken: string, code: string): Promise<{ user: Principal; recoveryCodes: string[] }> {
  const r = await api<SignedIn & { recoveryCodes: string[] }>('POST', '/api/auth/2fa/enable', { mfaToken, code });
  session.set(r.token, r.user);
  return { user: r.user, recoveryCodes: r.recoveryCodes };
}

/** What the login page calls (injectable, as the component tests do). */
export interface AuthApi {
  login: typeof login;
  verifyMfa: typeof verifyMfa;
  setupMfa: typeof setupMfa;
  enableMfa: typeof enableMfa;
}
export const authApi: AuthApi = { login, verifyMfa, setupMfa, enableMfa };

export function logout(): void {
  session.clear();
}
