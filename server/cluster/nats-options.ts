// CLUSTER_NATS_URL → the nats.js connection options (ADR 0026, docs/security.md "Cluster"). Pure.
//
// nats.js 2.x keeps only host:port of a server URL: it drops the scheme and the user info. So
// `nats://user:password@host` connected without credentials (the server answered "Authorization
// Violation") and `tls://host` did not make TLS required (the client used TLS only when the
// server offered it: a server, or someone in between, that offers none got the vitals in clear).
// Here the user info becomes `user`/`pass` (or a `token` when there is no password), and a tls://
// URL becomes `tls: {}`: the connection fails unless the server speaks TLS, and its certificate is
// verified against Node's CA store (a private CA: NODE_EXTRA_CA_CERTS).

export interface NatsOptions {
  /** host:port of each server. */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** TLS required, certificate verified. */
  tls?: Record<string, never>;
}

interface Parsed {
  hostPort: string;
  tls: boolean;
  user: string;
  pass: string;
}

function parse(url: string): Parsed {
  const u = new URL(url);
  return { hostPort: u.host, tls: u.protocol === 'tls:', user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
}

const credentials = (p: Parsed) => (p.user === '' && p.pass === '' ? null : `${p.user}\u0000${p.pass}`);

/** What is wrong with a list of NATS URLs taken together (config.ts cross-checks); each URL is well-formed. */
export function natsUrlProblems(urls: readonly string[]): string[] {
  const problems: string[] = [];
  let parsed: Parsed[];
  try {
    parsed = urls.map(parse);
  } catch {
    return ['CLUSTER_NATS_URL: a URL cannot be read (user info must be percent-encoded: @ → %40, / → %2F, : → %3A)'];
  }
  const schemes = new Set(parsed.map((p) => p.tls));
  if (schemes.size > 1) problems.push('CLUSTER_NATS_URL: tls:// and nats:// mixed: use tls:// for every server (a plain one is a way around TLS)');
  const creds = new Set(parsed.map(credentials).filter((c) => c !== null));
  if (creds.size > 1) problems.push('CLUSTER_NATS_URL: the URLs carry different credentials: the client uses one user and password (or token) for every server');
  return problems;
}

/** The connection options for `urls` (already checked by natsUrlProblems). */
export function natsOptions(urls: readonly string[]): NatsOptions {
  const parsed = urls.map(parse);
  const options: NatsOptions = { servers: parsed.map((p) => p.hostPort) };
  const withCreds = parsed.find((p) => credentials(p) !== null);
  if (withCreds) {
    if (withCreds.pass === '') options.token = withCreds.user;
    else Object.assign(options, { user: withCreds.user, pass: withCreds.pass });
  }
  if (parsed.some((p) => p.tls)) options.tls = {};
  return options;
}
