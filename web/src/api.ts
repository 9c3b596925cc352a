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
    throw new ApiError(res.status, data?.error?.code ?? 'ERR_HTTP', data?.error?.message ?? res.statusText);
  }
  return data as T;
}

export async function login(email: string, password: string): Promise<Principal> {
  const r = await api<{ token: string; user: Principal }>('POST', '/api/auth/login', { email, password });
  session.set(r.token, r.user);
  return r.user;
}

export function logout(): void {
  session.clear();
}
