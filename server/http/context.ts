// What the HTTP routes need, injected by the composition root (server/server.ts).
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Database } from '../../db/index.ts';
import type { DeviceRegistry } from '../../broker/device-registry.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Permission, Principal } from '../domain/roles.ts';
import type { SessionService } from '../auth/sessions.ts';
import type { TwoFactorService } from '../auth/two-factor.ts';
import type { FileStorage } from '../storage/index.ts';
import { can } from '../auth/permissions.ts';
import type { Metrics } from '../metrics.ts';
import type { PatientsCache } from '../patients-cache.ts';
import type { LiveState } from '../realtime/live-state.ts';
import type { Reading } from '../domain/vitals.ts';
import type { LabCriticalResult } from '../pipeline/alarms/lab-critical.ts';
import type { HttpTelemetry } from '../ingress.ts';
import type { AuditEntry, Patient } from '../../db/records.ts';
import type { Actor as AlarmActor, AlarmAction } from '../domain/alarms.ts';
import type { AlertEvent } from '../domain/events.ts';
import type { QueueChannel } from '../realtime/io.ts';
import { Errors } from '../errors.ts';
import type { PaymentGateway } from '../records/payment-provider.ts';
import { auditEntry, type Actor } from '../records/repository.ts';
import type { PatientNotifier } from '../notify/notifications.ts';

export interface AppContext {
  /** Queue calls for the display pages (Socket.IO room `queue:{doctorId}`). */
  queue: QueueChannel;
  db: Database;
  log: Logger;
  tokens: TokenService;
  sessions: SessionService;
  /** Two-factor sign-in (TOTP, recovery codes, login challenges; REQUIRE_2FA_ROLES). */
  twoFactor: TwoFactorService;
  /** Uploaded files (reports). */
  storage: FileStorage;
  registry: DeviceRegistry;
  patients: PatientsCache;
  live: LiveState;
  metrics: Metrics;
  /** Feed a manual observation into the pipeline (scored and stored like device data); resolves once durable. */
  ingestManual(reading: Reading): Promise<void>;
  /** Device telemetry over HTTP (POST /api/telemetry): the registry's check and the MQTT path (ingress.ts). */
  telemetry: HttpTelemetry;
  /** Raise the critical-result alarms of a lab order through the engine (ingress.ts); resolves once durable. */
  raiseLabCritical(patientId: string, orderId: string, results: LabCriticalResult[]): Promise<void>;
  /**
   * Audit an entry (written in order). During a declared route the answer waits for its commit
   * (http/route.ts, server/durable.ts); the promise is that commit.
   */
  audit(entry: AuditEntry): Promise<void>;
  onPatientChanged(p: Patient): void;
  /** An account's access changed (a kiosk's wards): its live connections end; returns how many. */
  onAccessChanged(userId: string): number;
  /** Acknowledge, silence or resolve an open alarm; resolves once stored; ERR_NOT_FOUND, ERR_ILLEGAL_TRANSITION, ERR_UNAVAILABLE. */
  actOnAlarm(id: string, action: AlarmAction, actor: AlarmActor, comment: string | null): Promise<AlertEvent>;
  /** True when the broker listens and the database answers. */
  /** What /readyz checks; every one must be true. `cluster`: NATS connected (a cluster node only). */
  ready(): Promise<{ database: boolean; broker: boolean; cluster?: boolean }>;
  /**
   * A cluster node's partitions and peers, and whether its Socket.IO adapter reaches Redis (not a
   * readiness check: without Redis a node still serves its own sockets, ADR 0027); null on a single node.
   */
  clusterStatus: (() => { node: string; partitions: number; owned: number[]; leaseS: number; peers: string[]; redis: boolean }) | null;
  /** Edge policy from the configuration (docs/security.md). */
  policy: Policy;
  /** The online payment provider (PAYMENT_* settings); null: online payment is off. */
  payments: PaymentGateway | null;
  /** Notifications (SMTP_URL, SMS_WEBHOOK_URL); null: off, nothing is enqueued. */
  notifications: PatientNotifier | null;
}

export interface Policy {
  /** Proxies whose X-Forwarded-For is believed (TRUST_PROXY); null: none. */
  trustProxy: readonly string[] | null;
  /** Self-registrations allowed per source address per hour (REGISTRATIONS_PER_ADDRESS_PER_HOUR). */
  registrationsPerAddressPerHour: number;
  /** Appointments one patient may hold with one doctor on one day (BOOKINGS_PER_PATIENT_PER_DOCTOR_PER_DAY). */
  bookingsPerPatientPerDoctorPerDay: number;
  /** The server speaks TLS itself (TLS_CERT_FILE): HSTS and upgrade-insecure-requests are sent. */
  https: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    user?: Principal;
    log?: Logger;
  }
}

export function authenticate(ctx: AppContext): RequestHandler {
  return async (req, _res, next) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) return next(Errors.unauthenticated('authentication required: send Authorization: Bearer <token>'));
    const user = await ctx.tokens.verify(token);
    if (!user) return next(Errors.unauthenticated('invalid or expired token'));
    req.user = user;
    next();
  };
}

export function allow(permission: Permission): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) return next(Errors.unauthenticated());
    if (!can(req.user.role, permission)) return next(Errors.forbidden(`role '${req.user.role}' lacks permission '${permission}'`));
    next();
  };
}

/** Who is asking, for the repositories' scope and audit (records/repository.ts). */
export function actorOf(req: Request): Actor {
  return { user: req.user!, ip: req.ip ?? null };
}

export function auditOf(req: Request, action: string, resource: string, resourceId: string | null, patientId: string | null, details?: unknown): AuditEntry {
  return auditEntry({ user: req.user, ip: req.ip ?? null }, action, resource, resourceId, patientId, details);
}
