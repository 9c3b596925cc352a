// Composition root: config → db → sinks → ingress → broker → http/io. Each part is made in
// dependency order and handed what it needs when it is made; as each part starts, its closer is
// pushed on a list. Shutdown runs the list in reverse; so does a start that fails half-way
// (a port taken, a database unreachable), before it rethrows. `startServer` is what `npm start`
// (main.ts) runs and what the integration tests start on port 0.
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { mqttPlain, s3ForcePathStyle, withoutCredentials, type Config } from './config.ts';
import { createNotifications, type Notifications } from './notify/notifications.ts';
import { smsWebhookTransport, smtpTransport } from './notify/sender.ts';
import { loadTls, type TlsMaterial } from './tls.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createDb, type Database } from '../db/index.ts';
import type { DbError } from '../db/driver.ts';
import { readingsToRestore } from '../db/vitals-store.ts';
import { allActivePatients, countUsers, getDevice, insertUser, listAlerts, listDevices } from '../db/records.ts';
import { loadMonitorStates } from '../db/monitor-state.ts';
import { createBroker } from '../broker/index.ts';
import { createMqttsListener } from '../broker/mqtts.ts';
import { DeviceRegistry } from '../broker/device-registry.ts';
import { createRefusalRecorder } from './mqtt-refusals.ts';
import { AlarmEngine, DEFAULT_ENGINE, type MonitorSnapshot } from './pipeline/alarms/engine.ts';
import { MEDIAN_WINDOW_MS } from './pipeline/latest.ts';
import type { Freshness } from './domain/vitals.ts';
import { PatientsCache } from './patients-cache.ts';
import { LiveState } from './realtime/live-state.ts';
import { createQueueChannel, createRealtime } from './realtime/io.ts';
import { createRoomsAdapter } from './realtime/cluster-adapter.ts';
import { QueueStore } from './records/queue.store.ts';
import { AppointmentStore } from './records/appointments.store.ts';
import { wardScope } from './records/scope.ts';
import { buildApp } from './http/app.ts';
import { createTokenService, loadJwtSecret, ttlSeconds } from './auth/tokens.ts';
import { SessionService } from './auth/sessions.ts';
import { TwoFactorService } from './auth/two-factor.ts';
import { totpKey } from './auth/totp.ts';
import { createLocalDiskStorage, type FileStorage } from './storage/index.ts';
import { createS3Storage } from './storage/s3.ts';
import { generateSecret, hashSecret } from './auth/passwords.ts';
import { createPaymentGateway, type PaymentGateway } from './records/payment-provider.ts';
import { coalesceVitals, createLiveFeed, createMonitorStateSaver, createNotifier, createSinks, createWriters, type Sinks } from './sinks.ts';
import { openRunMarker } from './run-marker.ts';
import { createAdmissionControl, createIngress, type MonitorInlet } from './ingress.ts';
import { createMonitoring } from './monitoring.ts';
import { reconcileAlarms, restoreMonitoring, UNCLEAN_SHUTDOWN } from './restore.ts';
import { connectCluster, startPartitions, type ClusterNode } from './cluster/node.ts';
import { followPeers, LIVE_CHANGES, LIVE_PUSHES } from './cluster/follow.ts';

export interface RunningServer {
  httpPort: number;
  /** MQTT over plain TCP; 0 when MQTT_PLAIN is off (no such listener). */
  mqttPort: number;
  /** MQTT over TLS; null without TLS. */
  mqttsPort: number | null;
  /** HTTP_PORT speaks HTTPS (and /mqtt is WSS). */
  https: boolean;
  log: Logger;
  db: Database;
  /** Generated admin password, when this start created the admin without ADMIN_PASSWORD. */
  generatedAdminPassword: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logDestination?: Parameters<typeof createLogger>[1];
  /**
   * The embedded database is gone for good (its worker crashed more than 3 times in 10 minutes, or
   * cannot reopen its data directory). Without this, the server keeps running with /readyz at 503;
   * `npm start` (main.ts) exits non-zero for its supervisor to restart it.
   */
  onDatabaseFatal?: (err: Error) => void;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL, opts.logDestination);
  // Read and checked before anything starts: a bad certificate or key stops the start (ConfigError).
  const tls = loadTls(config);
  const closers = new Closers(log);
  try {
    return await start(config, tls, log, closers, opts.onDatabaseFatal);
  } catch (err) {
    log.error({ err }, 'start failed; closing what was started');
    await closers.closeAll();
    throw err;
  }
}

async function start(config: Config, tls: TlsMaterial | null, log: Logger, closers: Closers, onDatabaseFatal?: (err: Error) => void): Promise<RunningServer> {
  const metrics = closers.add('metrics', createMetrics());
  const db = closers.add(
    'database',
    await createDb(
      { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, compressAfter: config.VITALS_COMPRESS_AFTER, retainFor: config.VITALS_RETAIN_FOR, ingestErrorsRetainFor: config.INGEST_ERRORS_RETAIN_FOR, onFatal: onDatabaseFatal },
      log,
    ),
  );
  // Removed by the writers' closer after their last flush when the shutdown saved everything;
  // found at the next start, it means this run was killed (or its shutdown failed).
  const marker = openRunMarker(config.DATA_DIR);
  let shutDownCleanly = (): boolean => false;
  const generatedAdminPassword = await bootstrapAdmin(db, config, log);
  const sessions = new SessionService(db.driver, { accessTtlMaxMs: Math.max(ttlSeconds(config.TOKEN_TTL), ttlSeconds(config.KIOSK_TOKEN_TTL)) * 1000 });
  await sessions.init();
  const jwtSecret = loadJwtSecret(config.JWT_SECRET, config.DATA_DIR);
  const tokens = createTokenService(jwtSecret, config.TOKEN_TTL, config.KIOSK_TOKEN_TTL, sessions.isRevoked);
  const twoFactor = new TwoFactorService(db.driver, totpKey(config.TOTP_SECRET_KEY, jwtSecret), { requiredRoles: config.REQUIRE_2FA_ROLES ?? [] });

  const patients = new PatientsCache();
  patients.load(await allActivePatients(db.driver));
  const registry = new DeviceRegistry({ maxFailures: config.DEVICE_AUTH_MAX_FAILURES, lockoutMs: config.DEVICE_LOCKOUT_S * 1000, maxLockoutMs: config.DEVICE_LOCKOUT_MAX_S * 1000 });
  registry.load((await listDevices(db.driver)).map((d) => ({ id: d.id, secretHash: d.secretHash, patientId: d.patientId })));
  const freshness = { deviceMs: config.FRESHNESS_DEVICE_S * 1000, intermittentMs: config.FRESHNESS_INTERMITTENT_S * 1000, manualMs: config.FRESHNESS_MANUAL_S * 1000 };
  const live = new LiveState(freshness);
  // A cluster node (CLUSTER_NATS_URL, ADR 0026): NATS first, so that what the sinks do to the live
  // state and push to the dashboards is replayed on the other nodes, and caches follow their changes.
  const cluster = config.CLUSTER_NATS_URL ? closers.add('cluster connection', await connectCluster(config, log)) : null;
  if (cluster) {
    followPeers(cluster.bus, { db, patients, registry, sessions, log });
    // A device provisioned through another node a moment ago: its row, before its secret is judged.
    registry.lookUpMisses(async (id) => {
      const d = await getDevice(db.driver, id);
      return d ? { id: d.id, secretHash: d.secretHash, patientId: d.patientId } : null;
    });
  }

  // ---------------------------------------------------------------- sinks (before what feeds them)
  const writers = createWriters({
    db,
    metrics,
    log,
    batchSize: config.WRITE_BATCH_SIZE,
    flushMs: config.WRITE_FLUSH_MS,
    vitalsBufferMax: config.WRITE_BUFFER_MAX,
    spill: { dataDir: config.DATA_DIR, maxMb: config.SPILL_MAX_MB },
  });
  closers.add('writers', async () => {
    await writers.close();
    if (shutDownCleanly()) marker.clear();
  });
  const feed = closers.add('live feed', createLiveFeed());
  const shared = cluster
    ? { live: cluster.bus.replicate('live', live, LIVE_CHANGES), feed: cluster.bus.replicate('feed', feed, LIVE_PUSHES) }
    : { live, feed };
  // Notifications (SMTP_URL, SMS_WEBHOOK_URL): the outbox's sender and reminder scan; closed before the database.
  const notifications = notificationsOf(config, db, log);
  if (notifications) closers.add('notifications', notifications);
  const webhook = config.WEBHOOK_URL ? { url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET ?? '' } : null;
  const notifier = closers.add('notifier', createNotifier({ webhook, feed: shared.feed, attempts: writers.attempts, log, email: notifications }));
  const sinks = createSinks({ db, live: shared.live, writers, feed: shared.feed, notifier, metrics, log });

  // ---------------------------------------------------------------- monitoring
  let inlet: MonitorInlet;
  let clusterNode: ClusterNode | null = null;
  if (cluster) {
    // The partitions this node leases are restored and processed as they are taken (cluster/node.ts).
    clusterNode = closers.add('partitions', await startPartitions({ cluster, config, db, freshness, patients, live: shared.live, sinks, writers, metrics, log }));
    inlet = clusterNode.inlet;
    shutDownCleanly = () => writers.alerts.depth === 0 && writers.transitions.depth === 0;
  } else {
    const engine = await restoreMonitoring(db, config, freshness, patients, live, log);
    // Closed after the monitoring below: its final save holds what the drained pipeline left.
    const stateSaver = createMonitorStateSaver({ engine, db, log, everyMs: config.MONITOR_STATE_SAVE_S * 1000, trendsEveryMs: config.MONITOR_TRENDS_SAVE_S * 1000 });
    let stateSaved = false;
    closers.add('monitor state', async () => void (stateSaved = await stateSaver.close()));
    shutDownCleanly = () => stateSaved && writers.alerts.depth === 0 && writers.transitions.depth === 0;
    reconcileAlarms(engine, sinks, marker.unclean ? UNCLEAN_SHUTDOWN : null, log);
    const monitoring = closers.add('monitoring', createMonitoring({ engine, sinks, vitals: writers.vitals, metrics, liveTickMs: config.LIVE_TICK_MS }));
    inlet = { deliver: monitoring.accept, whenWritable: () => writers.vitals.whenWritable(), actOnAlarm: monitoring.actOnAlarm };
  }

  // ---------------------------------------------------------------- ingress
  const refusals = closers.add('refusals', createRefusalRecorder({ write: (rows) => rows.forEach((r) => writers.refusals.push(r)), log, metrics }));
  const ingress = closers.add(
    'ingress',
    createIngress({
      inlet,
      sinks,
      writers,
      registry,
      refusals,
      metrics,
      log,
      rateLimit: { perS: config.DEVICE_MAX_MSG_PER_S, burst: config.DEVICE_MSG_BURST },
    }),
  );
  const admission = closers.add(
    'admission control',
    createAdmissionControl({ maxLagMs: config.MQTT_ADMIT_MAX_LAG_MS, holdMs: config.MQTT_ADMIT_HOLD_S * 1000, vitals: writers.vitals, vitalsBufferMax: config.WRITE_BUFFER_MAX, metrics, log }),
  );

  // ---------------------------------------------------------------- network
  // Made before the broker so that its closer runs after the broker's: HTTP's close waits for the
  // MQTT-over-WebSocket connections, which the broker ends. With TLS, the one HTTP port is HTTPS:
  // the dashboard, REST, Socket.IO and MQTT over WSS.
  const http: HttpServer = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS })
    : createServer();
  const httpClosed = once(() => new Promise<void>((resolve) => http.close(() => resolve())));
  closers.add('http server', async () => {
    const closed = httpClosed();
    http.closeAllConnections();
    await closed;
  });

  const broker = await createBroker({
    registry,
    allowAnonymous: config.ALLOW_ANONYMOUS_DEVICES,
    log,
    limits: {
      authTimeoutMs: config.MQTT_AUTH_TIMEOUT_S * 1000,
      maxPreAuthBytes: config.MQTT_PREAUTH_MAX_BYTES,
      maxUnauthenticatedPerAddress: config.MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS,
      maxConnectionsPerDevice: config.MQTT_MAX_CONNECTIONS_PER_DEVICE,
      maxDevices: config.MQTT_MAX_DEVICES,
    },
    hooks: ingress.hooks,
    rateLimit: { ratePerS: config.DEVICE_MAX_MSG_PER_S, burst: config.DEVICE_MSG_BURST },
    clientCertRequired: tls?.clientCertRequired ?? false,
    admit: admission.admit,
  });
  ingress.deviceErrors.subscribe(({ deviceId, body }) => broker.publishError(deviceId, body));
  // MQTT over TLS: each secure socket enters the broker where TCP and WebSocket ones do.
  const mqtts = tls
    ? createMqttsListener({
        accept: (socket) => broker.acceptSocket(socket),
        cert: tls.cert,
        key: tls.key,
        clientCa: tls.clientCa,
        clientCertRequired: tls.clientCertRequired,
        handshakeTimeoutMs: Math.min(TLS_HANDSHAKE_TIMEOUT_MS, config.MQTT_AUTH_TIMEOUT_S * 1000),
        maxHandshakingPerAddress: config.MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS,
        onRefused: (address, reason) => refusals.record(address, reason),
      })
    : null;
  closers.add('broker', async () => {
    // The TLS listener's close waits for its connections, which the broker's close ends.
    const mqttsClosed = mqtts?.close();
    await broker.close();
    await mqttsClosed;
  });

  // The waiting-room queue: the display's subscription reads its state from the queue store.
  const repoDeps = { db: db.driver, audit: writers.audit };
  const queueStore = new QueueStore(repoDeps, new AppointmentStore(repoDeps, config.BOOKINGS_PER_PATIENT_PER_DOCTOR_PER_DAY));
  const queue = createQueueChannel((doctorId) => queueStore.queueState(doctorId));
  // A cluster's rooms span the nodes (ADR 0027). Made before the realtime layer, so closed after it.
  const rooms = config.CLUSTER_REDIS_URL ? closers.add('socket.io adapter', await createRoomsAdapter(config.CLUSTER_REDIS_URL, log, { name: cluster?.me })) : null;
  // A cluster node's partitions and peers push vitals each on their own tick: one push per tick out.
  const displayFeed = cluster ? closers.add('live feed (one vitals push per tick)', coalesceVitals(feed, config.LIVE_TICK_MS)) : feed;
  const realtime = closers.add(
    'realtime',
    createRealtime(http, {
      adapter: rooms?.adapter,
      queue,
      feed: displayFeed,
      revocations: sessions,
      tokens,
      patients,
      live,
      registry,
      log,
      audit: writers.audit,
      actOnAlarm: ingress.actOnAlarm,
      wardScope: (user) => wardScope(db.driver, user),
      onClientsChanged: (n) => metrics.socketClients.set(n),
      onSlowClientDropped: () => metrics.socketsDroppedSlow.inc(),
      maxBufferedPackets: config.LIVE_CLIENT_MAX_BUFFER_PACKETS,
      maxBufferedBytes: config.LIVE_CLIENT_MAX_BUFFER_KB * 1024,
    }),
  );

  const storage = closers.add('report storage', reportStorageOf(config, log));
  let mqttListening = false;
  const app = buildApp({
    policy: {
      trustProxy: config.TRUST_PROXY ?? null,
      registrationsPerAddressPerHour: config.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
      bookingsPerPatientPerDoctorPerDay: config.BOOKINGS_PER_PATIENT_PER_DOCTOR_PER_DAY,
      https: tls !== null,
    },
    queue,
    db,
    log,
    tokens,
    sessions,
    twoFactor,
    storage,
    payments: paymentGatewayOf(config),
    notifications,
    registry,
    patients,
    live,
    metrics,
    ingestManual: ingress.ingestManual,
    telemetry: ingress.http,
    raiseLabCritical: ingress.raiseLabCritical,
    audit: writers.audit,
    onPatientChanged: (p) => patients.upsert(p),
    // A kiosk's wards changed: its sockets end, reconnect and subscribe again under the new wards.
    onAccessChanged: (userId) => realtime.disconnectUser(userId),
    actOnAlarm: ingress.actOnAlarm,
    ready: async () => ({ database: await db.ready(), broker: !broker.aedes.closed && mqttListening, ...(cluster ? { cluster: cluster.connected() } : {}) }),
    clusterStatus: clusterNode ? () => ({ ...clusterNode.status(), redis: rooms?.connected() ?? false }) : null,
  });
  http.on('request', app);
  http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/mqtt') broker.handleUpgrade(req, socket, head);
    else if (!path?.startsWith('/socket.io/')) socket.destroy();
  });

  // ---------------------------------------------------------------- listen
  // (Each listener is closed by its part's closer above; the HTTP one stops accepting first.)
  const mqttPort = mqttPlain(config) ? await listening('MQTT', 'MQTT_PORT', config, config.MQTT_PORT, () => broker.listenTcp(config.MQTT_PORT, config.HOST)) : 0;
  const mqttsPort = mqtts ? await listening('MQTTS', 'MQTTS_PORT', config, config.MQTTS_PORT, () => mqtts.listen(config.MQTTS_PORT, config.HOST)) : null;
  mqttListening = true;
  const httpPort = await listening(tls ? 'HTTPS' : 'HTTP', 'HTTP_PORT', config, config.HTTP_PORT, () => listenHttp(http, config.HTTP_PORT, config.HOST));
  closers.add('http listener', () => void httpClosed());
  log.info({ httpPort, https: tls !== null, mqttPort: mqttPort || null, mqttsPort, mqttWebSocket: tls ? 'wss /mqtt' : 'ws /mqtt', database: db.driver.kind, timescale: db.caps.timescale, anonymousDevices: config.ALLOW_ANONYMOUS_DEVICES }, 'WardPulse listening');
  if (tls) {
    log.info({ subject: tls.subject, validTo: tls.validTo.toISOString(), clientCertificates: tls.clientCa ? (tls.clientCertRequired ? 'required' : 'accepted') : 'off' }, 'TLS on');
    if (tls.validTo.getTime() < Date.now() + 30 * 86_400_000) log.warn({ validTo: tls.validTo.toISOString() }, 'the TLS certificate expires within 30 days (or has expired)');
  }
  if (config.ALLOW_ANONYMOUS_DEVICES) log.warn('anonymous devices are allowed: for bench rigs only');
  // Measured from here: the start's own work (migrations, restore) is not load.
  admission.start();

  let closing: Promise<void> | null = null;
  return {
    httpPort,
    mqttPort,
    mqttsPort,
    https: tls !== null,
    log,
    db,
    generatedAdminPassword,
    close() {
      closing ??= (async () => {
        // Stop accepting (HTTP, Socket.IO, MQTT), drain the pipeline, write what is buffered, the database last.
        log.info('shutting down: no new connections; flushing buffered rows');
        await closers.closeAll();
        log.info('shut down cleanly');
      })();
      return closing;
    },
  };
}

/** What was started, closed in reverse order; a closer that fails is logged and the rest still run. */
class Closers {
  private readonly parts: { name: string; close: () => unknown }[] = [];
  constructor(private readonly log: Logger) {}

  /** Register `part` (something with close(), or a close function) under `name`; returns it. */
  add<T extends { close(): unknown } | (() => unknown)>(name: string, part: T): T {
    this.parts.push({ name, close: typeof part === 'function' ? part : () => part.close() });
    return part;
  }

  async closeAll(): Promise<void> {
    for (const { name, close } of this.parts.splice(0).reverse()) {
      try {
        await close();
        this.log.debug({ part: name }, 'closed');
      } catch (err) {
        this.log.error({ err, part: name }, 'close failed');
      }
    }
  }
}

/** Listen, or fail with an error that names the setting, the address and the port. */
async function listening(what: string, setting: string, config: Config, port: number, listen: () => Promise<number>): Promise<number> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`cannot listen for ${what} on ${config.HOST}:${port} (${setting}): ${why}`, { cause: err });
  }
}

function listenHttp(http: HttpServer, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve((http.address() as { port: number }).port);
    });
  });
}

const once = <T>(fn: () => T): (() => T) => {
  let result: { value: T } | null = null;
  return () => (result ??= { value: fn() }).value;
};

/** From TCP accept to a finished TLS handshake (Node's default is 120 s: a slow-handshake flood holds sockets that long). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Where uploaded reports are kept: DATA_DIR/reports, or the S3 bucket (REPORTS_STORAGE=s3). The
 * bucket is checked once, without holding up the start: monitoring does not wait for reports, and
 * while the bucket is unreachable uploads and downloads answer 503 and the log says why.
 */
function reportStorageOf(config: Config, log: Logger): FileStorage & { close(): void } {
  if (config.REPORTS_STORAGE !== 's3') {
    // Each node has its own DATA_DIR: a report uploaded through one node is not found through another.
    if (config.CLUSTER_NATS_URL) log.warn('reports are on this node\'s disk (DATA_DIR/reports): in a cluster set REPORTS_STORAGE=s3, or every node must share that directory');
    return { ...createLocalDiskStorage(join(config.DATA_DIR, 'reports'), log), close() {} };
  }
  const where = { bucket: config.S3_BUCKET!, endpoint: config.S3_ENDPOINT ?? `AWS S3 ${config.S3_REGION}` };
  const s3 = createS3Storage({
    endpoint: config.S3_ENDPOINT,
    bucket: config.S3_BUCKET!,
    region: config.S3_REGION,
    accessKeyId: config.S3_ACCESS_KEY_ID,
    secretAccessKey: config.S3_SECRET_ACCESS_KEY,
    forcePathStyle: s3ForcePathStyle(config),
    timeoutMs: config.S3_TIMEOUT_MS,
    log,
  });
  void s3.check().then((problem) => {
    if (problem) log.warn({ ...where, problem }, 'reports: the S3 bucket cannot be reached; uploads and downloads answer 503 until it can');
    else log.info(where, 'reports are stored in S3');
  });
  return s3;
}

/** Notifications when SMTP_URL or SMS_WEBHOOK_URL is set (docs/architecture.md "Notifications"); null: off. */
function notificationsOf(config: Config, db: Database, log: Logger): Notifications | null {
  if (!config.SMTP_URL && !config.SMS_WEBHOOK_URL) return null;
  const notifications = createNotifications({
    db: db.driver,
    log,
    transport: config.SMTP_URL ? smtpTransport(config.SMTP_URL) : null,
    sms: config.SMS_WEBHOOK_URL ? smsWebhookTransport(config.SMS_WEBHOOK_URL, config.SMS_WEBHOOK_SECRET!) : null,
    from: config.MAIL_FROM ?? 'noreply@wardpulse.local',
    onCall: config.ONCALL_EMAILS ?? {},
    reminderBeforeH: config.REMINDER_BEFORE_H,
    reminderScanMs: config.REMINDER_SCAN_S * 1000,
    pollMs: config.NOTIFY_POLL_MS,
    retryBaseMs: config.NOTIFY_RETRY_BASE_MS,
    retryCapMs: config.NOTIFY_RETRY_MAX_MS,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    leaseMs: config.NOTIFY_LEASE_S * 1000,
  });
  // The URL's password is never logged: only where mail goes.
  log.info(
    { smtp: config.SMTP_URL ? withoutCredentials(config.SMTP_URL) : null, from: config.MAIL_FROM ?? null, sms: config.SMS_WEBHOOK_URL ? withoutCredentials(config.SMS_WEBHOOK_URL) : null, onCallRoles: Object.keys(config.ONCALL_EMAILS ?? {}) },
    'notifications on',
  );
  return notifications;
}

/** The online payment provider, when its key pair is configured; null: online payment is off. */
function paymentGatewayOf(config: Config): PaymentGateway | null {
  if (!config.PAYMENT_KEY_ID || !config.PAYMENT_KEY_SECRET) return null;
  return createPaymentGateway({
    url: config.PAYMENT_PROVIDER_URL,
    keyId: config.PAYMENT_KEY_ID,
    keySecret: config.PAYMENT_KEY_SECRET,
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET ?? null,
    currency: config.PAYMENT_CURRENCY,
    timeoutMs: config.PAYMENT_PROVIDER_TIMEOUT_MS,
  });
}

async function bootstrapAdmin(db: Database, config: Config, log: Logger): Promise<string | null> {
  if ((await countUsers(db.driver, 'admin')) > 0) return null;
  const password = config.ADMIN_PASSWORD ?? generateSecret(15);
  try {
    await insertUser(db.driver, {
      id: randomUUID(),
      email: config.ADMIN_EMAIL,
      name: 'Administrator',
      role: 'admin',
      passwordHash: await hashSecret(password),
    });
  } catch (err) {
    // Another node of a cluster, starting at the same moment, created it first.
    if ((err as DbError).constraint && (await countUsers(db.driver, 'admin')) > 0) return null;
    throw err;
  }
  log.info({ email: config.ADMIN_EMAIL }, 'first admin account created');
  return config.ADMIN_PASSWORD ? null : password;
}
