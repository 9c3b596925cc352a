// Composition root: config → db → broker → pipeline → http/io. Closed in reverse order.
// `startServer` is what `npm start` runs and what the integration tests start on port 0.
import { createServer, type Server as HttpServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Subject, share } from 'rxjs';
import type { Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createDb, type Database } from '../db/index.ts';
import { BatchWriter } from '../db/batch-writer.ts';
import { insertIngestErrors, insertScores, insertVitals, upsertAlerts, type IngestErrorRow, type ScoreRow } from '../db/vitals-store.ts';
import { allActivePatients, countUsers, insertAudit, insertUser, listAlerts, listDevices, setDeviceStatus, type AuditEntry } from '../db/records.ts';
import { createBroker, type Broker } from '../broker/index.ts';
import { DeviceRegistry } from '../broker/device-registry.ts';
import { decodeTelemetry } from './pipeline/decode.ts';
import { coalesceVitals, scorePatients } from './pipeline/operators.ts';
import type { Reading } from './pipeline/vitals.ts';
import type { Alert, AlarmState } from './pipeline/alarms/rules.ts';
import { PatientsCache } from './patients-cache.ts';
import { LiveState } from './realtime/live-state.ts';
import { createRealtime, type Realtime } from './realtime/io.ts';
import type { AlertEvent } from './realtime/events.ts';
import { buildApp } from './http/app.ts';
import { createTokenService, loadJwtSecret } from './auth/tokens.ts';
import { generateSecret, hashSecret } from './auth/passwords.ts';

export interface RunningServer {
  httpPort: number;
  mqttPort: number;
  log: Logger;
  db: Database;
  /** Generated admin password, when this start created the admin without ADMIN_PASSWORD. */
  generatedAdminPassword: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  logDestination?: Parameters<typeof createLogger>[1];
}

const toAlertEvent = (a: Alert): AlertEvent => ({
  id: a.id,
  patientId: a.patientId,
  kind: a.kind,
  category: a.category,
  parameter: a.parameter,
  value: a.value,
  limit: a.limit,
  priority: a.priority,
  state: a.state,
  message: a.message,
  ts: a.ts,
  endedAt: a.endedAt,
  updatedAt: a.updatedAt,
});

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL, opts.logDestination);
  const metrics = createMetrics();
  const db = await createDb(
    { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, compressAfter: config.VITALS_COMPRESS_AFTER, retainFor: config.VITALS_RETAIN_FOR },
    log,
  );
  const generatedAdminPassword = await bootstrapAdmin(db, config, log);
  const tokens = createTokenService(loadJwtSecret(config.JWT_SECRET, config.DATA_DIR), config.TOKEN_TTL, config.KIOSK_TOKEN_TTL);

  const patients = new PatientsCache();
  patients.load(await allActivePatients(db.driver));
  const registry = new DeviceRegistry();
  registry.load((await listDevices(db.driver)).map((d) => ({ id: d.id, secretHash: d.secretHash, patientId: d.patientId })));
  const live = new LiveState();

  // Alarms left open by a previous run resume their lifecycle instead of being orphaned.
  const openAlarms = new Map<string, AlarmState>();
  for (const a of await listAlerts(db.driver, { state: 'active', limit: 100_000, offset: 0 })) {
    const state = openAlarms.get(a.patientId) ?? { open: {} };
    state.open[a.kind === 'news2' ? 'news2:total' : `${a.kind}:${a.parameter}`] = a;
    openAlarms.set(a.patientId, state);
    live.applyAlert(a);
  }

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
    write: (rows) => insertVitals(db.driver, rows),
    onCommit: (rows, stored, s) => {
      metrics.readingsStored.inc(stored);
      if (stored < rows.length) metrics.readingsDuplicate.inc(rows.length - stored);
      metrics.writeBatchSeconds.observe({ table: 'vitals' }, s);
      metrics.bufferDepth.set({ table: 'vitals' }, vitalsWriter.depth);
    },
  });
  const small = { ...writerOpts, maxBuffered: 100_000 };
  const scoresWriter = new BatchWriter<ScoreRow>({ ...small, ...commonHooks('scores'), name: 'scores', write: (rows) => insertScores(db.driver, rows) });
  const alertsWriter = new BatchWriter<Alert>({ ...small, ...commonHooks('alerts'), name: 'alerts', write: (rows) => upsertAlerts(db.driver, rows) });
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
  const writers = [vitalsWriter, scoresWriter, alertsWriter, errorsWriter, auditWriter];
  for (const w of writers) w.start();
  const audit = (e: AuditEntry) => void auditWriter.push(e);

  // ---------------------------------------------------------------- pipeline
  const readings$ = new Subject<Reading>();
  const shared$ = readings$.pipe(share());
  let realtime: Realtime | null = null;

  const ingest = (r: Reading) => {
    metrics.readingsReceived.inc({ source: r.source });
    vitalsWriter.push(r);
    readings$.next(r);
  };

  const subscriptions = [
    shared$.pipe(coalesceVitals(config.LIVE_TICK_MS)).subscribe((batch) => realtime?.pushVitals(batch)),
    shared$
      .pipe(
        scorePatients({
          context: (id) => patients.context(id),
          freshness: { deviceMs: config.FRESHNESS_DEVICE_S * 1000, manualMs: config.FRESHNESS_MANUAL_S * 1000 },
          newId: randomUUID,
          initialAlarms: (id) => openAlarms.get(id) ?? { open: {} },
          onError: (err, r) => log.error({ err, patientId: r.patientId }, 'scoring failed for a reading'),
        }),
      )
      .subscribe((u) => {
        live.setLatest(u.patientId, u.latest);
        if (u.scoreChanged) {
          const ev = { patientId: u.patientId, ts: u.ts, news2: u.score };
          live.setScore(ev);
          scoresWriter.push(ev);
          realtime?.pushScore(ev);
        }
        for (const a of u.alerts) {
          live.applyAlert(a);
          alertsWriter.push(a);
          if (a.state === 'active' && a.ts === a.updatedAt) metrics.alertsRaised.inc({ priority: a.priority });
          realtime?.pushAlert(toAlertEvent(a));
        }
      }),
  ];

  // ---------------------------------------------------------------- broker
  const recordErrors = (deviceId: string | null, topic: string, payload: Buffer | undefined, issues: Omit<IngestErrorRow, 'ts' | 'deviceId' | 'topic' | 'payload'>[]) => {
    const ts = Date.now();
    const text = payload ? payload.subarray(0, 1024).toString('utf8') : undefined;
    for (const i of issues) errorsWriter.push({ ts, deviceId, topic, payload: text, ...i });
  };

  const broker: Broker = await createBroker({
    registry,
    allowAnonymous: config.ALLOW_ANONYMOUS_DEVICES,
    log,
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
        for (const d of readings) {
          if (d.seq !== undefined) {
            if (stats.lastSeq !== null && d.seq > stats.lastSeq + 1) stats.seqGaps += d.seq - stats.lastSeq - 1;
            stats.lastSeq = d.seq;
          }
          stats.readings++;
          ingest({ ts: d.ts, values: d.values, seq: d.seq, deviceId, patientId, source: 'device', receivedAt });
        }
        // The database is behind: hold this device's next packet until the buffer drains.
        return vitalsWriter.whenWritable();
      },
      onStatus(deviceId, status, at) {
        // A will, the disconnect and the retained status can all say "offline": announce once.
        if (live.deviceStatusOf(deviceId) === status) return;
        live.setDeviceStatus(deviceId, status);
        registry.statsOf(deviceId).connected = status === 'online';
        realtime?.pushDevice({ deviceId, patientId: registry.patientOf(deviceId), status, ts: at });
        if (registry.get(deviceId)) {
          setDeviceStatus(db.driver, deviceId, status, new Date(at)).catch((err: Error) => log.warn({ err: err.message, deviceId }, 'device status not saved'));
        }
      },
      onRefused(deviceId, topic, reason, payload) {
        registry.statsOf(deviceId).refused++;
        metrics.readingsRefused.inc();
        recordErrors(deviceId, topic, payload, [{ reason, refused: true }]);
      },
      onConnectionsChanged: (n) => metrics.devicesConnected.set(n),
    },
  });

  // ---------------------------------------------------------------- http + live
  const app = buildApp({
    db,
    log,
    tokens,
    registry,
    patients,
    live,
    metrics,
    ingestManual: ingest,
    audit,
    onPatientChanged: (p) => patients.upsert(p),
    ready: async () => ({ database: await db.ready(), broker: !broker.aedes.closed && mqttListening }),
  });
  const http: HttpServer = createServer(app);
  realtime = createRealtime(http, { tokens, patients, live, registry, log, audit, onClientsChanged: (n) => metrics.socketClients.set(n) });
  http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/mqtt') broker.handleUpgrade(req, socket, head);
    else if (!path?.startsWith('/socket.io/')) socket.destroy();
  });

  let mqttListening = false;
  const mqttPort = await broker.listenTcp(config.MQTT_PORT, config.HOST);
  mqttListening = true;
  const httpPort = await new Promise<number>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.HTTP_PORT, config.HOST, () => resolve((http.address() as { port: number }).port));
  });
  log.info({ httpPort, mqttPort, mqttWebSocket: `/mqtt`, database: db.driver.kind, timescale: db.caps.timescale, anonymousDevices: config.ALLOW_ANONYMOUS_DEVICES }, 'WardPulse listening');
  if (config.ALLOW_ANONYMOUS_DEVICES) log.warn('anonymous devices are allowed: for bench rigs only');

  let closing: Promise<void> | null = null;
  return {
    httpPort,
    mqttPort,
    log,
    db,
    generatedAdminPassword,
    close() {
      closing ??= (async () => {
        log.info('shutting down: no new connections; flushing buffered rows');
        // 1. stop accepting: HTTP, Socket.IO, MQTT
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        await realtime!.close();
        await broker.close();
        http.closeAllConnections();
        await httpClosed;
        // 2. drain the pipeline and write everything buffered
        readings$.complete();
        for (const s of subscriptions) s.unsubscribe();
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
