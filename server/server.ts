// Composition root: config → db → broker → pipeline → http/io. Closed in reverse order.
// `startServer` is what `npm start` runs and what the integration tests start on port 0.
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Subject, share } from 'rxjs';
import { mqttPlain, type Config } from './config.ts';
import { loadTls } from './tls.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createDb, type Database } from '../db/index.ts';
import { BatchWriter } from '../db/batch-writer.ts';
import {
  insertIngestErrors,
  insertNotificationAttempts,
  insertScores,
  insertTransitions,
  insertVitals,
  readingsToRestore,
  upsertIngestRefusals,
  upsertAlerts,
  type IngestErrorRow,
  type NotificationAttempt,
  type ScoreRow,
} from '../db/vitals-store.ts';
import { allActivePatients, countUsers, insertAudit, insertUser, listAlerts, listDevices, setDeviceStatus, type AuditEntry } from '../db/records.ts';
import { createBroker, type Broker } from '../broker/index.ts';
import { createMqttsListener, type MqttsListener } from '../broker/mqtts.ts';
import type { RefusalCount } from '../broker/refusals.ts';
import { createRefusalRecorder } from './mqtt-refusals.ts';
import { Admission } from '../broker/admission.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DeviceRegistry } from '../broker/device-registry.ts';
import { decodeTelemetry } from './pipeline/decode.ts';
import { coalesceVitals, monitorPatients, type MonitorInput } from './pipeline/operators.ts';
import type { Reading } from './domain/vitals.ts';
import type { Actor, Alarm, AlarmAction, Transition } from './domain/alarms.ts';
import { AlarmEngine, DEFAULT_ENGINE, type EngineOutput, type MonitorSnapshot } from './pipeline/alarms/engine.ts';
import { seqMissing } from './pipeline/alarms/technical.ts';
import { takeNoSignal } from './pipeline/no-signal.ts';
import { MEDIAN_WINDOW_MS } from './pipeline/latest.ts';
import { loadMonitorStates, saveMonitorStates } from '../db/monitor-state.ts';
import { createWebhook } from './notify/webhook.ts';
import { Errors } from './errors.ts';
import { PatientsCache } from './patients-cache.ts';
import { LiveState } from './realtime/live-state.ts';
import { createQueueChannel, createRealtime, type Realtime } from './realtime/io.ts';
import { wardScope } from './records/scope.ts';
import { toAlertEvent } from './realtime/events.ts';
import type { AlertEvent } from './domain/events.ts';
import { buildApp } from './http/app.ts';
import { createTokenService, loadJwtSecret, ttlSeconds } from './auth/tokens.ts';
import { SessionService } from './auth/sessions.ts';
import { createLocalDiskStorage } from './storage/index.ts';
import { join } from 'node:path';
import { generateSecret, hashSecret } from './auth/passwords.ts';
import { createPaymentGateway, type PaymentGateway } from './records/payment-provider.ts';

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
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL, opts.logDestination);
  // Read and checked before anything starts: a bad certificate or key stops the start (ConfigError).
  const tls = loadTls(config);
  const metrics = createMetrics();
  const db = await createDb(
    { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, compressAfter: config.VITALS_COMPRESS_AFTER, retainFor: config.VITALS_RETAIN_FOR, ingestErrorsRetainFor: config.INGEST_ERRORS_RETAIN_FOR },
    log,
  );
  const generatedAdminPassword = await bootstrapAdmin(db, config, log);
  const sessions = new SessionService(db.driver, { accessTtlMaxMs: Math.max(ttlSeconds(config.TOKEN_TTL), ttlSeconds(config.KIOSK_TOKEN_TTL)) * 1000 });
  await sessions.init();
  const tokens = createTokenService(loadJwtSecret(config.JWT_SECRET, config.DATA_DIR), config.TOKEN_TTL, config.KIOSK_TOKEN_TTL, sessions.isRevoked);

  const patients = new PatientsCache();
  patients.load(await allActivePatients(db.driver));
  const registry = new DeviceRegistry({ maxFailures: config.DEVICE_AUTH_MAX_FAILURES, lockoutMs: config.DEVICE_LOCKOUT_S * 1000, maxLockoutMs: config.DEVICE_LOCKOUT_MAX_S * 1000 });
  registry.load((await listDevices(db.driver)).map((d) => ({ id: d.id, secretHash: d.secretHash, patientId: d.patientId })));
  const freshness = { deviceMs: config.FRESHNESS_DEVICE_S * 1000, intermittentMs: config.FRESHNESS_INTERMITTENT_S * 1000, manualMs: config.FRESHNESS_MANUAL_S * 1000 };
  const live = new LiveState(freshness);

  // A restart forgets nothing clinical (docs/alarms.md §7): alarms left open resume their
  // lifecycle; the latest values, the last full observation set, pending alarm delays, device
  // facts and trend baselines are restored, so scores, timers and alarms continue where they were.
  const restored = (await listAlerts(db.driver, { state: 'open', limit: 100_000, offset: 0 })).items;
  for (const a of restored) live.applyAlert(a);
  const startedAt = Date.now();
  const engine = new AlarmEngine(
    { context: (id) => patients.context(id), newId: randomUUID, onError: (err, patientId) => log.error({ err, patientId }, 'monitoring failed for a patient') },
    {
      ...DEFAULT_ENGINE,
      freshness,
      lifecycle: {
        silenceMs: config.SILENCE_S * 1000,
        escalateAfterMs: config.ESCALATE_AFTER_S * 1000,
        escalateMediumAfterMs: config.ESCALATE_MEDIUM_AFTER_S * 1000,
        escalationRoles: config.ESCALATION_ROLES.split(',').map((r) => r.trim()),
      },
      technical: { ...DEFAULT_ENGINE.technical, expectedIntervalMs: config.DEVICE_SILENCE_S * 1000 },
      news2: { singleThreePriority: config.NEWS2_SINGLE_THREE_PRIORITY },
    },
    restored,
    await loadMonitorStates<MonitorSnapshot>(db.driver),
    startedAt,
  );
  const toRestore = await readingsToRestore(db.driver, startedAt, {
    continuousMs: Math.max(freshness.deviceMs, MEDIAN_WINDOW_MS),
    intermittentMs: freshness.intermittentMs,
    manualMs: freshness.manualMs,
  });
  for (const [patientId, readings] of toRestore) {
    if (!patients.get(patientId)) continue;
    live.setLatest(patientId, engine.restoreReadings(patientId, readings, startedAt));
  }
  if (toRestore.size > 0) log.info({ patients: toRestore.size }, 'latest values restored');

  // ---------------------------------------------------------------- writers (the db sink)
  const writerOpts = { batchSize: config.WRITE_BATCH_SIZE, flushMs: config.WRITE_FLUSH_MS, log };
  const onDrop = (table: string) => (count: number, reason: string) => {
    if (table === 'vitals') metrics.readingsDropped.inc(count);
    log.error({ table, count, reason }, 'rows dropped');
  };
  const commonHooks = (table: string) => ({
    onDrop: onDrop(table),
    onError: () => metrics.writeErrors.inc({ table }),
    onDepth: (d: number) => metrics.bufferDepth.set({ table }, d),
  });
  const vitalsWriter = new BatchWriter<Reading>({
    ...writerOpts,
    ...commonHooks('vitals'),
    name: 'vitals',
    maxBuffered: config.WRITE_BUFFER_MAX,
    // Past the memory buffer, readings go to disk and are replayed when the database is back.
    ...(config.SPILL_MAX_MB > 0 ? { spill: { dir: join(config.DATA_DIR, 'spill'), maxBytes: config.SPILL_MAX_MB * 1024 * 1024 } } : {}),
    onSpill: (count) => metrics.readingsSpilled.inc(count),
    write: (rows) => insertVitals(db.driver, rows),
    onCommit: (rows, stored, s) => {
      metrics.readingsStored.inc(stored);
      if (stored < rows.length) metrics.readingsDuplicate.inc(rows.length - stored);
      metrics.writeBatchSeconds.observe({ table: 'vitals' }, s);
      metrics.observeCommitted(rows);
      metrics.bufferDepth.set({ table: 'vitals' }, vitalsWriter.depth);
    },
  });
  const small = { ...writerOpts, maxBuffered: 100_000 };
  const scoresWriter = new BatchWriter<ScoreRow>({ ...small, ...commonHooks('scores'), name: 'scores', write: (rows) => insertScores(db.driver, rows) });
  const alertsWriter = new BatchWriter<Alarm>({ ...small, ...commonHooks('alerts'), name: 'alerts', write: (rows) => upsertAlerts(db.driver, rows) });
  const transitionsWriter = new BatchWriter<Transition>({ ...small, ...commonHooks('alert_transitions'), name: 'alert_transitions', write: (rows) => insertTransitions(db.driver, rows) });
  const attemptsWriter = new BatchWriter<NotificationAttempt>({ ...small, ...commonHooks('notification_attempts'), name: 'notification_attempts', write: (rows) => insertNotificationAttempts(db.driver, rows) });
  const errorsWriter = new BatchWriter<IngestErrorRow>({ ...small, ...commonHooks('ingest_errors'), name: 'ingest_errors', write: (rows) => insertIngestErrors(db.driver, rows) });
  const auditWriter = new BatchWriter<AuditEntry>({
    ...small,
    ...commonHooks('audit_log'),
    name: 'audit_log',
    batchSize: 1, // keep the audit trail in order, row by row
    write: async ([e]) => {
      await insertAudit(db.driver, e!);
      return 1;
    },
  });
  const refusalsWriter = new BatchWriter<RefusalCount>({ ...small, ...commonHooks('ingest_refusals'), name: 'ingest_refusals', write: (rows) => upsertIngestRefusals(db.driver, rows) });
  const writers = [vitalsWriter, scoresWriter, alertsWriter, transitionsWriter, attemptsWriter, errorsWriter, refusalsWriter, auditWriter];
  for (const w of writers) w.start();
  const audit = (e: AuditEntry) => void auditWriter.push(e);

  // ---------------------------------------------------------------- pipeline
  const readings$ = new Subject<Reading>();
  const monitor$ = new Subject<MonitorInput>();
  const shared$ = readings$.pipe(share());
  let realtime: Realtime | null = null;
  const webhook = config.WEBHOOK_URL
    ? createWebhook({ url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET ?? '', log, record: (a) => void attemptsWriter.push(a) })
    : null;

  const ingest = (r: Reading, battery?: number, backfill = false, noSignal: readonly string[] = []) => {
    metrics.readingsReceived.inc({ source: r.source });
    // A reading that held nothing but "no signal" (SpO2 0) has no value to store or show; the
    // engine still hears it (the technical alarm).
    if (Object.keys(r.values).length > 0 || noSignal.length === 0) {
      vitalsWriter.push(r);
      readings$.next(r);
    }
    monitor$.next({ type: 'reading', reading: r, battery, backfill, noSignal });
  };

  /** The sinks of the monitoring engine: live state, database, dashboards, notifiers. */
  const publish = (o: EngineOutput) => {
    for (const l of o.latest) live.setLatest(l.patientId, l.latest);
    for (const ev of o.scores) {
      live.setScore(ev);
      scoresWriter.push(ev);
      realtime?.pushScore(ev);
    }
    for (const a of o.alarms) {
      live.applyAlert(a);
      alertsWriter.push(a);
      realtime?.pushAlert(toAlertEvent(a));
    }
    for (const t of o.transitions) {
      transitionsWriter.push(t);
      // A new alarm is among this output's alarms (a search of every open alarm cost ~10 % of
      // the CPU at 5,000 beds: bench/README.md, profile).
      if (t.from === null) metrics.alertsRaised.inc({ priority: o.alarms.find((a) => a.id === t.alarmId)?.priority ?? 'unknown' });
    }
    for (const e of o.escalations) {
      // Socket.IO to the dashboards always; the webhook (pager, SMS gateway) when configured.
      realtime?.pushEscalation({ alarm: toAlertEvent(e.alarm), level: e.level, role: e.role, at: e.at });
      attemptsWriter.push({ alertId: e.alarm.id, level: e.level, role: e.role, channel: 'socket', target: null, attempt: 1, at: e.at, ok: true, status: null, error: null });
      webhook?.send(e);
      log.warn({ alarmId: e.alarm.id, level: e.level, role: e.role }, 'alarm escalated');
    }
  };

  const actOnAlarm = (id: string, action: AlarmAction, actor: Actor, comment: string | null) => {
    const r = engine.act(id, action, actor, Date.now(), comment);
    if (!r.ok) {
      if (r.code === 'ERR_NOT_FOUND') throw Errors.notFound('open alarm', id);
      throw Errors.conflict(r.message);
    }
    publish(r.output);
    return toAlertEvent(r.alarm);
  };

  const subscriptions = [
    shared$.pipe(coalesceVitals(config.LIVE_TICK_MS)).subscribe((batch) => realtime?.pushVitals(batch)),
    monitor$.pipe(monitorPatients(engine, 1000)).subscribe(publish),
  ];

  // The engine's state beyond readings and alarms, saved every MONITOR_STATE_SAVE_S and at shutdown.
  // Clinical state (alarm delays, manual windows, the last full set, device status) every
  // MONITOR_STATE_SAVE_S; what each device reading moves (trend baselines, device facts) every
  // MONITOR_TRENDS_SAVE_S — rewriting every bed's trends every 10 s was most of the database
  // traffic at 5,000 beds (bench/README.md).
  let saving: Promise<void> = Promise.resolve();
  let saves = 0;
  const slowEvery = Math.max(1, Math.round(config.MONITOR_TRENDS_SAVE_S / config.MONITOR_STATE_SAVE_S));
  const saveMonitorState = (all = false) => {
    const slow = ++saves % slowEvery === 0;
    const rows = engine.snapshots(all, slow).map((x) => ({ patientId: x.patientId, state: x.snapshot }));
    if (rows.length === 0) return saving;
    saving = saving
      .then(() => saveMonitorStates(db.driver, rows, Date.now()))
      .catch((err: Error) => log.warn({ err: err.message, patients: rows.length }, 'monitor state not saved (retried at the next save)'));
    return saving;
  };
  const stateTimer = setInterval(() => void saveMonitorState(), config.MONITOR_STATE_SAVE_S * 1000);
  stateTimer.unref();

  // ---------------------------------------------------------------- broker
  const recordErrors = (deviceId: string | null, topic: string, payload: Buffer | undefined, issues: Omit<IngestErrorRow, 'ts' | 'deviceId' | 'topic' | 'payload'>[]) => {
    const ts = Date.now();
    const text = payload ? payload.subarray(0, 1024).toString('utf8') : undefined;
    for (const i of issues) errorsWriter.push({ ts, deviceId, topic, payload: text, ...i });
  };

  const deviceStatusChanged = (deviceId: string, status: 'online' | 'offline', at: number) => {
    // A will, the disconnect and the retained status can all say "offline": announce once.
    if (live.deviceStatusOf(deviceId) === status) return;
    live.setDeviceStatus(deviceId, status);
    registry.statsOf(deviceId).connected = status === 'online';
    realtime?.pushDevice({ deviceId, patientId: registry.patientOf(deviceId), status, ts: at });
    monitor$.next({ type: 'device', deviceId, patientId: registry.patientOf(deviceId), status });
    if (registry.get(deviceId)) {
      setDeviceStatus(db.driver, deviceId, status, new Date(at)).catch((err: Error) => log.warn({ err: err.message, deviceId }, 'device status not saved'));
    }
  };

  // Admission control (broker/admission.ts, docs/architecture.md "Overload"): every 500 ms the
  // event loop's p99 delay and the vitals writer's buffer say whether the node keeps up; while it
  // does not, new device connections get CONNACK 3 and the devices already in keep their latency.
  const admission = new Admission({ maxLagMs: config.MQTT_ADMIT_MAX_LAG_MS, holdMs: config.MQTT_ADMIT_HOLD_S * 1000 });
  const loopLag = monitorEventLoopDelay({ resolution: 10 });
  let overloaded = false;
  const sampleLoad = () => {
    const now = Date.now();
    admission.sample(loopLag.percentile(99) / 1e6, vitalsWriter.depth >= config.WRITE_BUFFER_MAX / 2, now);
    loopLag.reset();
    const state = admission.state(now);
    if (state.overloaded === overloaded) return;
    overloaded = state.overloaded;
    metrics.overloaded.set(overloaded ? 1 : 0);
    if (overloaded) log.warn({ event: 'overloaded', loopDelayP99Ms: Math.round(state.lagMs), vitalsBuffered: vitalsWriter.depth }, 'node overloaded: new device connections are refused (CONNACK 3) until it keeps up');
    else log.warn({ event: 'overload_over' }, 'node keeps up again: device connections admitted');
  };

  const refusals = createRefusalRecorder({ write: (rows) => rows.forEach((r) => refusalsWriter.push(r)), log, metrics });

  const broker: Broker = await createBroker({
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
    hooks: {
      onVitals(deviceId, payload, topic, receivedAt) {
        const { readings, issues } = decodeTelemetry(payload, receivedAt);
        const stats = registry.statsOf(deviceId);
        stats.lastSeenAt = receivedAt;
        if (issues.length > 0) {
          const refused = issues.filter((i) => i.refused).length;
          stats.refused += refused;
          metrics.readingsRefused.inc(refused);
          metrics.fieldsRefused.inc(issues.length - refused);
          recordErrors(deviceId, topic, payload, issues);
          broker.publishError(deviceId, { topic, ts: receivedAt, issues });
        }
        const patientId = registry.patientOf(deviceId);
        for (const i of issues) if (i.implausible) monitor$.next({ type: 'implausible', deviceId, patientId, at: receivedAt });
        for (const d of readings) {
          if (d.seq !== undefined) {
            stats.seqGaps += seqMissing(stats.lastSeq, d.seq);
            stats.lastSeq = d.seq;
          }
          stats.readings++;
          // SpO2 0 is "no signal", not a measurement: neither stored nor scored (no-signal.ts).
          const { values, noSignal } = takeNoSignal(d.values);
          ingest({ ts: d.ts, values, seq: d.seq, deviceId, patientId, source: 'device', receivedAt }, d.battery, readings.length > 1, noSignal);
        }
        // The database is behind: hold this device's next packet until the buffer drains.
        return vitalsWriter.whenWritable();
      },
      onStatus: deviceStatusChanged,
      onOverloadRefused(deviceId) {
        // The node is overloaded and refused this device (broker/admission.ts): its bed is not
        // monitored, so its display says "device offline" (a technical alarm) instead of looking quiet.
        if (registry.get(deviceId)) deviceStatusChanged(deviceId, 'offline', Date.now());
      },
      onRefused(deviceId, topic, reason, payload) {
        registry.statsOf(deviceId).refused++;
        metrics.readingsRefused.inc();
        recordErrors(deviceId, topic, payload, [{ reason, refused: true }]);
      },
      onConnectionsChanged: (n) => metrics.devicesConnected.set(n),
      onProtocolError(deviceId, reason) {
        metrics.readingsRefused.inc();
        recordErrors(deviceId, '(mqtt)', undefined, [{ reason, refused: true }]);
      },
      onConnectRefused: (address, reason) => refusals.record(address, reason),
      onUnauthenticatedChanged: (n) => metrics.mqttUnauthenticated.set(n),
      onLockout(deviceId, address, lockout, known) {
        // A security event for a provisioned device (issue 11, finding 4); a guessed id is only
        // counted among the refusals, so a spray of made-up ids writes nothing per id.
        if (!known) return;
        metrics.deviceLockouts.inc();
        const lockedForS = Math.round(lockout.lockedForMs / 1000);
        log.warn({ event: 'device_lockout', deviceId, address, failures: lockout.failures, lockouts: lockout.lockouts, lockedForS }, 'security: device locked out for failed secrets from one address');
        recordErrors(deviceId, '(mqtt)', undefined, [{ reason: `locked out: ${lockout.failures} failed secrets from ${address}; refused from that address for ${lockedForS} s`, refused: true }]);
      },
      onRateLimitDrop: () => metrics.rateLimited.inc(),
      onRateLimited(deviceId, topic, dropped, disconnected) {
        if (disconnected) metrics.devicesDisconnectedForFlooding.inc();
        registry.statsOf(deviceId).refused += dropped;
        const reason = disconnected
          ? `rate limit exceeded for 10 s (${config.DEVICE_MAX_MSG_PER_S} msg/s): disconnected`
          : `rate limit exceeded (${config.DEVICE_MAX_MSG_PER_S} msg/s, burst ${config.DEVICE_MSG_BURST}): ${dropped} message(s) dropped`;
        recordErrors(deviceId, topic, undefined, [{ reason, refused: true }]);
      },
    },
    rateLimit: { ratePerS: config.DEVICE_MAX_MSG_PER_S, burst: config.DEVICE_MSG_BURST },
    clientCertRequired: tls?.clientCertRequired ?? false,
    admit: () => admission.admit(Date.now()),
  });

  // ---------------------------------------------------------------- http + live
  const queue = createQueueChannel();
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
    storage: createLocalDiskStorage(join(config.DATA_DIR, 'reports')),
    payments: paymentGatewayOf(config),
    registry,
    patients,
    live,
    metrics,
    ingestManual: ingest,
    audit,
    onPatientChanged: (p) => patients.upsert(p),
    // A kiosk's wards changed: its sockets end, reconnect and subscribe again under the new wards.
    onAccessChanged: (userId) => realtime?.disconnectUser(userId) ?? 0,
    actOnAlarm,
    ready: async () => ({ database: await db.ready(), broker: !broker.aedes.closed && mqttListening }),
  });
  // With TLS, the one HTTP port is HTTPS: the dashboard, REST, Socket.IO and MQTT over WSS.
  const http: HttpServer = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, app)
    : createServer(app);
  realtime = createRealtime(http, { queue, tokens, patients, live, registry, log, audit, actOnAlarm, wardScope: (user) => wardScope(db.driver, user), onClientsChanged: (n) => metrics.socketClients.set(n), onSlowClientDropped: () => metrics.socketsDroppedSlow.inc(),
    maxBufferedPackets: config.LIVE_CLIENT_MAX_BUFFER_PACKETS,
    maxBufferedBytes: config.LIVE_CLIENT_MAX_BUFFER_KB * 1024,
  });
  // A revoked session's live connections end with it.
  sessions.onRevoke = (sids) => {
    const ended = new Set(sids);
    for (const s of realtime?.io.sockets.sockets.values() ?? []) if (s.data.user?.sid && ended.has(s.data.user.sid)) s.disconnect(true);
  };
  http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/mqtt') broker.handleUpgrade(req, socket, head);
    else if (!path?.startsWith('/socket.io/')) socket.destroy();
  });

  let mqttListening = false;
  const mqttPort = mqttPlain(config) ? await broker.listenTcp(config.MQTT_PORT, config.HOST) : 0;
  // MQTT over TLS: each secure socket enters the broker where TCP and WebSocket ones do.
  const mqtts: MqttsListener | null = tls
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
  const mqttsPort = mqtts ? await mqtts.listen(config.MQTTS_PORT, config.HOST) : null;
  mqttListening = true;
  const httpPort = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.HTTP_PORT, config.HOST, () => resolve((http.address() as { port: number }).port));
  });
  log.info({ httpPort, https: tls !== null, mqttPort: mqttPort || null, mqttsPort, mqttWebSocket: tls ? 'wss /mqtt' : 'ws /mqtt', database: db.driver.kind, timescale: db.caps.timescale, anonymousDevices: config.ALLOW_ANONYMOUS_DEVICES }, 'WardPulse listening');
  if (tls) {
    log.info({ subject: tls.subject, validTo: tls.validTo.toISOString(), clientCertificates: tls.clientCa ? (tls.clientCertRequired ? 'required' : 'accepted') : 'off' }, 'TLS on');
    if (tls.validTo.getTime() < Date.now() + 30 * 86_400_000) log.warn({ validTo: tls.validTo.toISOString() }, 'the TLS certificate expires within 30 days (or has expired)');
  }
  if (config.ALLOW_ANONYMOUS_DEVICES) log.warn('anonymous devices are allowed: for bench rigs only');
  // Measured from here: the start's own work (migrations, restore) is not load.
  loopLag.enable();
  const admissionTimer = setInterval(sampleLoad, 500);
  admissionTimer.unref();

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
        log.info('shutting down: no new connections; flushing buffered rows');
        // 1. stop accepting: HTTP, Socket.IO, MQTT
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        await realtime!.close();
        const mqttsClosed = mqtts?.close();
        await broker.close();
        await mqttsClosed;
        http.closeAllConnections();
        await httpClosed;
        // 2. drain the pipeline and write everything buffered
        readings$.complete();
        monitor$.complete();
        clearInterval(stateTimer);
        clearInterval(admissionTimer);
        loopLag.disable();
        await saveMonitorState(true);
        await webhook?.close();
        for (const s of subscriptions) s.unsubscribe();
        refusals.close();
        await Promise.all(writers.map((w) => w.close(20_000)));
        // 3. the database last
        await db.close();
        metrics.close();
        log.info('shut down cleanly');
      })();
      return closing;
    },
  };
}

/** From TCP accept to a finished TLS handshake (Node's default is 120 s: a slow-handshake flood holds sockets that long). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

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
  await insertUser(db.driver, {
    id: randomUUID(),
    email: config.ADMIN_EMAIL,
    name: 'Administrator',
    role: 'admin',
    passwordHash: await hashSecret(password),
  });
  log.info({ email: config.ADMIN_EMAIL }, 'first admin account created');
  return config.ADMIN_PASSWORD ? null : password;
}
