// Configuration: read once from the environment (and CLI flags), validated, typed, then frozen.
import { isIP } from 'node:net';
import { z } from 'zod';
import { passwordProblem } from './auth/password-policy.ts';
import { natsUrlProblems } from './cluster/nats-options.ts';
import { ROLES, type Role } from './domain/roles.ts';
import { parseOnCall } from './notify/messages.ts';

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be 0 (any free port) to 65535')
  .max(65535, 'must be 0 (any free port) to 65535');

const interval = z
  .string()
  .regex(/^(off|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?))$/, "must look like '7 days' or be 'off'");

/** One proxy the HTTP layer may believe X-Forwarded-For from: an address, a CIDR or an express preset. */
const proxyEntry = (s: string) => {
  if (s === 'loopback' || s === 'linklocal' || s === 'uniquelocal') return true;
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || !addr || isIP(addr) === 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(addr) === 4 ? 32 : 128));
};

const schema = z.object({
  HTTP_PORT: port.default(8080),
  MQTT_PORT: port.default(1883),
  HOST: z.string().min(1).default('0.0.0.0'),
  // TLS (README, "TLS"): with a certificate chain and its key (PEM files), HTTP_PORT serves HTTPS
  // (the dashboard, REST, Socket.IO, WSS on /mqtt) and MQTTS_PORT MQTT over TLS. TLS_CLIENT_CA_FILE:
  // a device may authenticate with a certificate signed by it whose CN is its id; with
  // TLS_CLIENT_CERT_REQUIRED it must. MQTT_PLAIN: MQTT over plain TCP on MQTT_PORT — unset, on
  // without TLS and off with it (`mqttPlain` below).
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  TLS_CLIENT_CERT_REQUIRED: z.stringbool().default(false),
  MQTTS_PORT: port.default(8883),
  MQTT_PLAIN: z.stringbool().optional(),
  // Reverse proxies whose X-Forwarded-For is believed (client address for audit, login and
  // registration limits). Unset: none — the socket's peer address is the client.
  TRUST_PROXY: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .refine((list) => list.length > 0 && list.every(proxyEntry), {
      message: "must be addresses or CIDRs separated by commas (e.g. '10.0.0.5,10.1.0.0/16'), or loopback, linklocal, uniquelocal",
    })
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  ADMIN_EMAIL: z.email('must be an e-mail address').default('admin@wardpulse.local'),
  ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TOKEN_TTL: z.string().regex(/^\d+[smhd]$/, "must look like '12h' or '30m'").default('12h'),
  KIOSK_TOKEN_TTL: z.string().regex(/^\d+[smhd]$/, "must look like '30d' or '12h'").default('30d'),
  // Business-flow limits (docs/security.md): self-registrations from one address per hour, and
  // appointments one patient may hold with one doctor on one day (booked by anyone for them).
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(10),
  BOOKINGS_PER_PATIENT_PER_DOCTOR_PER_DAY: z.coerce.number().int().min(1).max(100).default(2),
  // Two-factor sign-in (docs/api.md "Two-factor sign-in"): roles that must have it — their next
  // login enrols them — and the key that seals TOTP secrets at rest (default: derived from the
  // token key, so changing JWT_SECRET without it makes every enrolled authenticator unreadable).
  REQUIRE_2FA_ROLES: z
    .string()
    .transform((s, c) => {
      const list = [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))];
      const unknown = list.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (list.length === 0 || unknown.length > 0) {
        const what = list.length === 0 ? 'names no role' : `${unknown.map((r) => `'${r}'`).join(', ')} ${unknown.length === 1 ? 'is not a role' : 'are not roles'}`;
        c.addIssue({ code: 'custom', message: `${what}: must be roles separated by commas, e.g. 'admin,doctor' (roles: ${ROLES.join(', ')})` });
        return z.NEVER;
      }
      return list as Role[];
    })
    .optional(),
  TOTP_SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ALLOW_ANONYMOUS_DEVICES: z.stringbool().default(false),
  VITALS_COMPRESS_AFTER: interval.default('7 days'),
  VITALS_RETAIN_FOR: interval.default('90 days'),
  WRITE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(1000),
  WRITE_FLUSH_MS: z.coerce.number().int().min(5).max(10_000).default(100),
  WRITE_BUFFER_MAX: z.coerce.number().int().min(1000).max(10_000_000).default(500_000),
  SPILL_MAX_MB: z.coerce.number().int().min(0).max(1_000_000).default(1024),
  DEVICE_MAX_MSG_PER_S: z.coerce.number().positive().max(100_000).default(20),
  DEVICE_MSG_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100),
  // The MQTT broker before login (docs/device-protocol.md §2): the deadline from opening a socket
  // to authenticating, the bytes a socket may send until then, sockets still authenticating per
  // source address, authenticated connections per device; failed secrets per (device, address)
  // before a lock, and its first and longest length (each later lock doubles).
  MQTT_AUTH_TIMEOUT_S: z.coerce.number().int().min(1).max(300).default(10),
  MQTT_PREAUTH_MAX_BYTES: z.coerce.number().int().min(512).max(1_048_576).default(8192),
  MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(100),
  MQTT_MAX_CONNECTIONS_PER_DEVICE: z.coerce.number().int().min(1).max(1000).default(4),
  /** Admission control (broker/admission.ts): event-loop delay p99 (ms) past which new device connections get CONNACK 3; 0 = off. */
  MQTT_ADMIT_MAX_LAG_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  /** Devices connected at once, at most (the node's measured capacity in beds, bench/README.md); 0 = no cap. */
  MQTT_MAX_DEVICES: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /** … and how long (s) after the last overloaded sample they keep being refused. */
  MQTT_ADMIT_HOLD_S: z.coerce.number().int().min(1).max(600).default(5),
  DEVICE_AUTH_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  DEVICE_LOCKOUT_S: z.coerce.number().int().min(1).max(86_400).default(60),
  DEVICE_LOCKOUT_MAX_S: z.coerce.number().int().min(1).max(7 * 86_400).default(3600),
  // `ingest_errors` and the pre-login refusal counts are deleted after this ('off': kept).
  INGEST_ERRORS_RETAIN_FOR: interval.default('30 days'),
  LIVE_CLIENT_MAX_BUFFER_PACKETS: z.coerce.number().int().min(10).max(1_000_000).default(1000),
  LIVE_CLIENT_MAX_BUFFER_KB: z.coerce.number().int().min(16).max(1_048_576).default(8192),
  // 100 ms: at 5,000 beds the dashboard p99 was 108 ms against 290 ms with 250 ms (bench/README.md).
  LIVE_TICK_MS: z.coerce.number().int().min(10).max(5000).default(100),
  // How long a value counts for scoring and shows as live (docs/alarms.md, "Freshness"):
  // streamed device values (HR, SpO2, RR), intermittent device values (cuff BP, temperature),
  // and at most this long for a manual observation (narrowed to the RCP monitoring interval).
  FRESHNESS_DEVICE_S: z.coerce.number().int().min(5).max(3600).default(30),
  FRESHNESS_INTERMITTENT_S: z.coerce.number().int().min(60).max(24 * 3600).default(1800),
  FRESHNESS_MANUAL_S: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(12 * 3600),
  SILENCE_S: z.coerce.number().int().min(10).max(3600).default(120),
  ESCALATE_AFTER_S: z.coerce.number().int().min(5).max(3600).default(60),
  ESCALATE_MEDIUM_AFTER_S: z.coerce.number().int().min(5).max(24 * 3600).default(900),
  NEWS2_SINGLE_THREE_PRIORITY: z.enum(['low', 'medium', 'high']).default('medium'),
  MONITOR_STATE_SAVE_S: z.coerce.number().int().min(1).max(3600).default(10),
  /** Trend baselines and device facts (which every device reading moves) are saved this often. */
  MONITOR_TRENDS_SAVE_S: z.coerce.number().int().min(1).max(3600).default(60),
  ESCALATION_ROLES: z.string().regex(/^[a-z-]+(,[a-z-]+)*$/, "must be roles separated by commas, e.g. 'nurse,doctor'").default('nurse,doctor'),
  DEVICE_SILENCE_S: z.coerce.number().int().min(5).max(3600).default(30),
  WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  // Online payments through a Razorpay-style provider (docs/api.md#billing, ADR 0015): its API
  // (`{URL}/v1/orders`), the API key id and secret (Basic auth; the secret also checks checkout
  // signatures), the webhook secret (optional), the account's currency and the call's timeout.
  // Without the key pair online payment is off.
  PAYMENT_PROVIDER_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://api.razorpay.com'),
  PAYMENT_KEY_ID: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 visible ASCII characters').optional(),
  PAYMENT_KEY_SECRET: z.string().min(16, 'must be at least 16 characters').max(500).optional(),
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').max(500).optional(),
  PAYMENT_CURRENCY: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as 'EUR' or 'INR'").default('EUR'),
  PAYMENT_PROVIDER_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Where uploaded reports are kept (docs/architecture.md "Files"): `local` (DATA_DIR/reports) or
  // `s3`, any S3-compatible object store. S3_ENDPOINT unset = AWS itself (the region's endpoint);
  // the key pair together or neither (neither: the AWS SDK's own chain — instance role, AWS_*
  // variables). Path-style addressing (`{endpoint}/{bucket}/{key}`) is what MinIO, Ceph and the
  // like expect: on by default with S3_ENDPOINT, off for AWS.
  REPORTS_STORAGE: z.enum(['local', 's3'], { error: "must be 'local' or 's3'" }).default('local'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  // S3 bucket naming rules (3–63 lowercase letters, digits, dots, hyphens).
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name: 3–63 lowercase letters, digits, dots and hyphens').optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]{1,40}$/, "must look like 'eu-west-2' (S3-compatible services usually accept 'us-east-1')").default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 visible ASCII characters').optional(),
  // The store's own secret (AWS: 40 characters; test servers use shorter ones): only its length is bounded here.
  S3_SECRET_ACCESS_KEY: z.string().max(500, 'must be at most 500 characters').optional(),
  S3_FORCE_PATH_STYLE: z.stringbool().optional(),
  S3_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  // Notifications by e-mail (docs/architecture.md "Notifications"): the SMTP server (smtp:// or
  // smtps://, user and password in the URL; off when unset), the sender address, the reminder's
  // lead time, the on-call addresses per role for escalated alarms, and the outbox's retry rule.
  SMTP_URL: z
    .string()
    .refine((s) => URL.canParse(s) && /^smtps?:$/.test(new URL(s).protocol) && new URL(s).hostname !== '', {
      message: "must be an smtp:// or smtps:// URL with a host, e.g. 'smtps://user:password@mail.example.org:465'",
    })
    .optional(),
  MAIL_FROM: z
    .string()
    .regex(/^([^<>\r\n]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, "must be an address, or a name and an address: 'WardPulse <noreply@hospital.example>'")
    .optional(),
  REMINDER_BEFORE_H: z.coerce.number().int().min(1, 'must be 1 to 168 hours').max(168, 'must be 1 to 168 hours').default(24),
  REMINDER_SCAN_S: z.coerce.number().int().min(1).max(3600).default(60),
  ONCALL_EMAILS: z
    .string()
    .transform((s, c) => {
      const parsed = parseOnCall(s, ROLES);
      if (!parsed.ok) {
        c.addIssue({ code: 'custom', message: `${parsed.problems.join('; ')}: must look like 'doctor:a@x.org,b@x.org;nurse:c@x.org'` });
        return z.NEVER;
      }
      return parsed.value;
    })
    .optional(),
  // SMS through an HTTP gateway (docs/architecture.md "Notifications"): a signed POST per text,
  // like the escalation webhook; the secret signs it.
  SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SMS_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').max(500).optional(),
  NOTIFY_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  NOTIFY_RETRY_MAX_MS: z.coerce.number().int().min(50).max(86_400_000).default(3_600_000),
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  NOTIFY_LEASE_S: z.coerce.number().int().min(5).max(3600).default(300),
  // A cluster (opt-in, docs/deployment.md "A cluster", ADR 0026): set CLUSTER_NATS_URL and this
  // node shares the work with the others on the same NATS JetStream cluster, PostgreSQL and Redis.
  CLUSTER_NATS_URL: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .refine((list) => list.length > 0 && list.every((u) => /^(nats|tls):\/\/[^\s/]+$/.test(u)), { message: "must be nats://host:port URLs separated by commas" })
    .optional(),
  CLUSTER_NODE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 letters, digits or _ . : -').optional(),
  CLUSTER_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  CLUSTER_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
  CLUSTER_LEASE_S: z.coerce.number().int().min(2).max(120).default(5),
  CLUSTER_REPLICAS: z.coerce.number().int().min(1).max(5).default(3),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Rules across variables. */
function crossChecks(c: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  const adminPassword = c.ADMIN_PASSWORD === undefined ? null : passwordProblem(c.ADMIN_PASSWORD, { email: c.ADMIN_EMAIL, name: 'Administrator' });
  if (adminPassword) problems.push(`ADMIN_PASSWORD: ${adminPassword} (the value is not shown)`);
  if (c.WEBHOOK_URL && !c.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET="": required when WEBHOOK_URL is set (escalations are signed with it)');
  problems.push(...paymentProblems(c));
  problems.push(...reportStorageProblems(c));
  problems.push(...mailProblems(c));
  if (c.DEVICE_LOCKOUT_MAX_S < c.DEVICE_LOCKOUT_S) problems.push(`DEVICE_LOCKOUT_MAX_S="${c.DEVICE_LOCKOUT_MAX_S}": must be at least DEVICE_LOCKOUT_S (${c.DEVICE_LOCKOUT_S})`);
  problems.push(...tlsProblems(c));
  problems.push(...clusterProblems(c));
  return problems;
}

/** A node of a cluster shares the database, the token key and the Socket.IO rooms with the others. */
function clusterProblems(c: z.infer<typeof schema>): string[] {
  if (!c.CLUSTER_NATS_URL) {
    const stray = (['CLUSTER_REDIS_URL', 'CLUSTER_NODE_ID'] as const).filter((k) => c[k] !== undefined);
    return stray.map((k) => `${k}: only with CLUSTER_NATS_URL (cluster mode)`);
  }
  const problems: string[] = [];
  if (!c.DATABASE_URL) problems.push('DATABASE_URL="": required with CLUSTER_NATS_URL (every node uses the same PostgreSQL; the embedded database cannot be shared)');
  if (!c.JWT_SECRET) problems.push('JWT_SECRET="": required with CLUSTER_NATS_URL (the same on every node, so a sign-in on one node is valid on all)');
  if (!c.CLUSTER_REDIS_URL) problems.push('CLUSTER_REDIS_URL="": required with CLUSTER_NATS_URL (Socket.IO rooms across the nodes)');
  problems.push(...natsUrlProblems(c.CLUSTER_NATS_URL));
  return problems;
}

/** TLS settings that only make sense together (README, "TLS"). */
function tlsProblems(c: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  const tls = c.TLS_CERT_FILE !== undefined && c.TLS_KEY_FILE !== undefined;
  if (c.TLS_CERT_FILE !== undefined && c.TLS_KEY_FILE === undefined) problems.push('TLS_KEY_FILE="": required when TLS_CERT_FILE is set (the private key of that certificate, PEM)');
  if (c.TLS_KEY_FILE !== undefined && c.TLS_CERT_FILE === undefined) problems.push('TLS_CERT_FILE="": required when TLS_KEY_FILE is set (the certificate chain of that key, PEM)');
  if (c.MQTT_PLAIN === false && !tls) problems.push('MQTT_PLAIN="false": devices would have no encrypted listener to use instead: set TLS_CERT_FILE and TLS_KEY_FILE (MQTTS on MQTTS_PORT)');
  if (c.TLS_CLIENT_CA_FILE !== undefined && !tls) problems.push(`TLS_CLIENT_CA_FILE="${c.TLS_CLIENT_CA_FILE}": client certificates need TLS: set TLS_CERT_FILE and TLS_KEY_FILE`);
  if (c.TLS_CLIENT_CERT_REQUIRED && c.TLS_CLIENT_CA_FILE === undefined) problems.push('TLS_CLIENT_CERT_REQUIRED="true": needs TLS_CLIENT_CA_FILE (the CA that signs device certificates)');
  if (tls && c.MQTTS_PORT !== 0) {
    if (c.MQTTS_PORT === c.HTTP_PORT) problems.push(`MQTTS_PORT="${c.MQTTS_PORT}": is also HTTP_PORT`);
    if (mqttPlain(c) && c.MQTTS_PORT === c.MQTT_PORT) problems.push(`MQTTS_PORT="${c.MQTTS_PORT}": is also MQTT_PORT`);
  }
  return problems;
}

/** MQTT over plain TCP: as MQTT_PLAIN says; unset, on without TLS and off with it (secure by default). */
export function mqttPlain(c: Pick<Config, 'MQTT_PLAIN' | 'TLS_CERT_FILE'>): boolean {
  return c.MQTT_PLAIN ?? c.TLS_CERT_FILE === undefined;
}

/** Online payments: the key pair together or not at all; the secret never over plain HTTP to another host. */
function paymentProblems(c: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  if (Boolean(c.PAYMENT_KEY_ID) !== Boolean(c.PAYMENT_KEY_SECRET)) {
    problems.push(`${c.PAYMENT_KEY_ID ? 'PAYMENT_KEY_SECRET' : 'PAYMENT_KEY_ID'}="": set PAYMENT_KEY_ID and PAYMENT_KEY_SECRET together, or neither (online payment off)`);
  }
  if (c.PAYMENT_WEBHOOK_SECRET && !c.PAYMENT_KEY_SECRET) problems.push('PAYMENT_WEBHOOK_SECRET: only with PAYMENT_KEY_ID and PAYMENT_KEY_SECRET (the webhook confirms orders made with them) (the value is not shown)');
  const url = new URL(c.PAYMENT_PROVIDER_URL);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback && c.PAYMENT_KEY_SECRET) {
    problems.push(`PAYMENT_PROVIDER_URL="${c.PAYMENT_PROVIDER_URL}": must be https:// (the key secret is sent to it); plain http only to localhost`);
  }
  return problems;
}

const S3_SETTINGS = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'] as const;

/** Reports in S3: a bucket, the key pair together, patient files never over plain http to another host. */
function reportStorageProblems(c: z.infer<typeof schema>): string[] {
  if (c.REPORTS_STORAGE !== 's3') {
    // Set without REPORTS_STORAGE=s3 the reports would silently stay on the local disk.
    return S3_SETTINGS.filter((k) => c[k] !== undefined).map((k) => `${k}: only with REPORTS_STORAGE=s3 (reports are on the local disk, DATA_DIR/reports)${k === 'S3_SECRET_ACCESS_KEY' ? ' (the value is not shown)' : ''}`);
  }
  const problems: string[] = [];
  if (!c.S3_BUCKET) problems.push('S3_BUCKET="": required when REPORTS_STORAGE=s3 (the bucket the reports are stored in; create it first, private)');
  if (Boolean(c.S3_ACCESS_KEY_ID) !== Boolean(c.S3_SECRET_ACCESS_KEY)) {
    problems.push(`${c.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID'}="": set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither (the AWS SDK's default credentials: instance role, AWS_* variables)`);
  }
  if (c.S3_ENDPOINT) {
    const url = new URL(c.S3_ENDPOINT);
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol === 'http:' && !loopback) problems.push(`S3_ENDPOINT="${withoutCredentials(c.S3_ENDPOINT)}": must be https:// (patient files travel to it); plain http only to localhost`);
    if (url.username || url.password) problems.push('S3_ENDPOINT: must not hold credentials: use S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY');
  }
  return problems;
}

const MAIL_SETTINGS = ['MAIL_FROM', 'ONCALL_EMAILS'] as const;

/** E-mail: a sender address with the server; on-call addresses only when mail can be sent. */
function mailProblems(c: z.infer<typeof schema>): string[] {
  const problems: string[] = [];
  if (c.SMS_WEBHOOK_URL && !c.SMS_WEBHOOK_SECRET) problems.push('SMS_WEBHOOK_SECRET="": required when SMS_WEBHOOK_URL is set (each text is signed with it)');
  if (c.SMS_WEBHOOK_SECRET && !c.SMS_WEBHOOK_URL) problems.push('SMS_WEBHOOK_SECRET: only with SMS_WEBHOOK_URL (the value is not shown)');
  if (c.SMS_WEBHOOK_URL) {
    const url = new URL(c.SMS_WEBHOOK_URL);
    if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) problems.push(`SMS_WEBHOOK_URL="${withoutCredentials(c.SMS_WEBHOOK_URL)}": must be https:// (patients' phone numbers and messages travel to it); plain http only to localhost`);
  }
  if (!c.SMTP_URL) return [...problems, ...MAIL_SETTINGS.filter((k) => c[k] !== undefined).map((k) => `${k}: only with SMTP_URL (e-mail notifications are off without it)`)];
  if (!c.MAIL_FROM) problems.push("MAIL_FROM=\"\": required when SMTP_URL is set (the sender of the notifications, e.g. 'WardPulse <noreply@hospital.example>')");
  if (c.NOTIFY_RETRY_MAX_MS < c.NOTIFY_RETRY_BASE_MS) problems.push(`NOTIFY_RETRY_MAX_MS="${c.NOTIFY_RETRY_MAX_MS}": must be at least NOTIFY_RETRY_BASE_MS (${c.NOTIFY_RETRY_BASE_MS})`);
  const url = new URL(c.SMTP_URL);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  // smtp:// is upgraded with STARTTLS when the server offers it; a password in it to another host
  // would otherwise be sent in the clear to a server that does not.
  if (url.protocol === 'smtp:' && url.password && !loopback && url.searchParams.get('requireTLS') !== 'true') {
    problems.push(`SMTP_URL="${withoutCredentials(c.SMTP_URL)}": carries a password over smtp://: use smtps:// (port 465), or add ?requireTLS=true (STARTTLS, port 587); plain smtp:// only to localhost`);
  }
  return problems;
}

/** Path-style bucket addressing: as S3_FORCE_PATH_STYLE says; unset, on with S3_ENDPOINT (S3-compatible services) and off for AWS. */
export function s3ForcePathStyle(c: Pick<Config, 'S3_FORCE_PATH_STYLE' | 'S3_ENDPOINT'>): boolean {
  return c.S3_FORCE_PATH_STYLE ?? c.S3_ENDPOINT !== undefined;
}

/**
 * `text` with the password of every URL in it masked (`nats://wp:***@host`), and a user info
 * without a password — a token — masked whole: for logs and start-up errors.
 */
export function withoutCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/,]*)@/gi, (_, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    return `${scheme}${colon < 0 ? '***' : `${info.slice(0, colon)}:***`}@`;
  });
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Flags override the environment: `--allow-anonymous-devices`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: string[] = []): Config {
  const input: Record<string, unknown> = { ...env };
  for (const arg of argv) {
    if (arg === '--allow-anonymous-devices') input.ALLOW_ANONYMOUS_DEVICES = 'true';
    else throw new ConfigError([`unknown option ${arg} (known: --allow-anonymous-devices)`]);
  }
  // Empty variables count as unset.
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      // A secret's value is never echoed into the start-up output (logs are read by more people).
      parsed.error.issues.map((i) => {
        const key = String(i.path[0]);
        // Nor the password in a URL (CLUSTER_NATS_URL, CLUSTER_REDIS_URL, DATABASE_URL).
        const value = input[key] ?? '';
        // An SMTP_URL too broken to find its password in is not shown at all.
        const hidden = /SECRET|PASSWORD/.test(key) || (key === 'SMTP_URL' && !String(value).includes('://'));
        const shown = hidden ? '(value hidden)' : JSON.stringify(typeof value === 'string' ? withoutCredentials(value) : value);
        return `${i.path.join('.')}=${shown}: ${i.message}`;
      }),
    );
  }
  const problems = crossChecks(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed.data);
}
