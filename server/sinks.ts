// Where the pipeline's results go: the database writers, the live state, the dashboards and the
// notifiers. The composition root (server.ts) makes these before the ingress that feeds them and
// closes them after it, so whatever is still in the pipeline at shutdown drains into open sinks.
// Every factory that holds something (a timer, a buffer, a delivery in flight) returns a close().
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '../db/index.ts';
import { BatchWriter } from '../db/batch-writer.ts';
import { DurableBatchWriter } from '../db/durable-writer.ts';
import { durableWrite } from './durable.ts';
import {
  insertIngestErrors,
  insertNotificationAttempts,
  insertScores,
  insertTransitions,
  insertVitals,
  upsertIngestRefusals,
  upsertAlerts,
  type IngestErrorRow,
  type NotificationAttempt,
  type ScoreRow,
} from '../db/vitals-store.ts';
import { insertAudit, setDeviceStatus, type AuditEntry } from '../db/records.ts';
import { saveMonitorStates } from '../db/monitor-state.ts';
import type { RefusalCount } from '../broker/refusals.ts';
import type { Metrics } from './metrics.ts';
import type { Reading } from './domain/vitals.ts';
import type { Alarm, Escalation, Transition } from './domain/alarms.ts';
import type { AlarmEngine, EngineOutput } from './pipeline/alarms/engine.ts';
import { createWebhook } from './notify/webhook.ts';
import type { LiveState } from './realtime/live-state.ts';
import { toAlertEvent } from './realtime/events.ts';
import type { DeviceStatusEvent, VitalsEvent } from './domain/events.ts';
import type { LiveFeed, LivePush } from './realtime/io.ts';

// ---------------------------------------------------------------- writers (the database sink)

export interface WriterOptions {
  db: Database;
  metrics: Metrics;
  log: Logger;
  batchSize: number;
  flushMs: number;
  /** Rows of vitals held in memory (WRITE_BUFFER_MAX) before they spill to disk or drop. */
  vitalsBufferMax: number;
  /** Past the memory buffer, readings go to disk and are replayed when the database is back (SPILL_MAX_MB; 0: off). */
  spill: { dataDir: string; maxMb: number };
}

export interface Writers {
  vitals: BatchWriter<Reading>;
  scores: BatchWriter<ScoreRow>;
  /** Alarms and transitions: a person's action on an alarm waits for their commit (writeDurable). */
  alerts: DurableBatchWriter<Alarm>;
  transitions: DurableBatchWriter<Transition>;
  attempts: BatchWriter<NotificationAttempt>;
  errors: BatchWriter<IngestErrorRow>;
  refusals: BatchWriter<RefusalCount>;
  /**
   * Queue an audit entry (written in order); the promise resolves once it is committed. Inside a
   * request (server/durable.ts) the answer waits for it; elsewhere nobody waits.
   */
  audit(entry: AuditEntry): Promise<void>;
  /** Stop the timers and write everything buffered (each writer within `deadlineMs`). */
  close(deadlineMs?: number): Promise<void>;
}

export function createWriters(opts: WriterOptions): Writers {
  const { db, metrics, log } = opts;
  const hooks = (table: string) => ({
    batchSize: opts.batchSize,
    flushMs: opts.flushMs,
    log,
    onDrop: (count: number, reason: string) => {
      if (table === 'vitals') metrics.readingsDropped.inc(count);
      log.error({ table, count, reason }, 'rows dropped');
    },
    onError: () => metrics.writeErrors.inc({ table }),
    onDepth: (d: number) => metrics.bufferDepth.set({ table }, d),
  });
  const vitals: BatchWriter<Reading> = new BatchWriter<Reading>({
    ...hooks('vitals'),
    name: 'vitals',
    maxBuffered: opts.vitalsBufferMax,
    ...(opts.spill.maxMb > 0 ? { spill: { dir: join(opts.spill.dataDir, 'spill'), maxBytes: opts.spill.maxMb * 1024 * 1024 } } : {}),
    onSpill: (count) => metrics.readingsSpilled.inc(count),
    write: (rows) => insertVitals(db.driver, rows),
    onCommit: (rows, stored, s) => {
      metrics.readingsStored.inc(stored);
      if (stored < rows.length) metrics.readingsDuplicate.inc(rows.length - stored);
      metrics.writeBatchSeconds.observe({ table: 'vitals' }, s);
      metrics.observeCommitted(rows);
      metrics.bufferDepth.set({ table: 'vitals' }, vitals.depth);
    },
  });
  const small = (table: string) => ({ ...hooks(table), name: table, maxBuffered: 100_000 });
  const auditLog = new DurableBatchWriter<AuditEntry>({
    ...small('audit_log'),
    batchSize: 1, // keep the audit trail in order, row by row
    write: async ([e]) => {
      await insertAudit(db.driver, e!);
      return 1;
    },
  });
  const writers = {
    vitals,
    scores: new BatchWriter<ScoreRow>({ ...small('scores'), write: (rows) => insertScores(db.driver, rows) }),
    alerts: new DurableBatchWriter<Alarm>({ ...small('alerts'), write: (rows) => upsertAlerts(db.driver, rows) }),
    transitions: new DurableBatchWriter<Transition>({ ...small('alert_transitions'), write: (rows) => insertTransitions(db.driver, rows) }),
    attempts: new BatchWriter<NotificationAttempt>({ ...small('notification_attempts'), write: (rows) => insertNotificationAttempts(db.driver, rows) }),
    // A QoS 1 message refused for its content is acknowledged once its refusal is recorded
    // (ADR 0023): these rows, too, go to the spill rather than wait out a database outage.
    errors: new BatchWriter<IngestErrorRow>({
      ...small('ingest_errors'),
      ...(opts.spill.maxMb > 0 ? { spill: { dir: join(opts.spill.dataDir, 'spill'), maxBytes: Math.max(1, Math.floor(opts.spill.maxMb / 16)) * 1024 * 1024 } } : {}),
      write: (rows) => insertIngestErrors(db.driver, rows),
    }),
    refusals: new BatchWriter<RefusalCount>({ ...small('ingest_refusals'), write: (rows) => upsertIngestRefusals(db.driver, rows) }),
  };
  const all = [...Object.values(writers), auditLog];
  for (const w of all) w.start();
  return {
    ...writers,
    audit: (e) => durableWrite(auditLog.writeDurable(e)),
    close: async (deadlineMs = 20_000) => {
      await Promise.all(all.map((w) => w.close(deadlineMs)));
    },
  };
}

// ---------------------------------------------------------------- the dashboards' feed

/**
 * What the sinks push to the dashboards. Made before Socket.IO exists; the realtime layer
 * attaches to it when it is created and detaches when it closes (nothing attached: nothing sent).
 */
export function createLiveFeed(): LiveFeed & LivePush & { close(): void } {
  const targets = new Set<LivePush>();
  return {
    attach(target) {
      targets.add(target);
      return () => void targets.delete(target);
    },
    pushVitals: (batch) => targets.forEach((t) => t.pushVitals(batch)),
    pushScore: (ev) => targets.forEach((t) => t.pushScore(ev)),
    pushAlert: (ev) => targets.forEach((t) => t.pushAlert(ev)),
    pushDevice: (ev) => targets.forEach((t) => t.pushDevice(ev)),
    pushEscalation: (ev) => targets.forEach((t) => t.pushEscalation(ev)),
    close: () => targets.clear(),
  };
}

/**
 * Vitals pushes from several sources merged into at most one per `tickMs` (the first at once, the
 * rest of a tick's at its end); the other pushes pass straight through. A cluster node has one
 * engine per partition it processes, each ticking on its own, and replays its peers' pushes: its
 * displays would get several `vitals` messages per tick, and a volatile emit is dropped while the
 * socket is still writing the one before (the cluster bench: displays got 50–80 % of updates).
 */
export function coalesceVitals(source: LiveFeed, tickMs: number): LiveFeed & { close(): void } {
  const out = createLiveFeed();
  let pending: VitalsEvent[] = [];
  let timer: NodeJS.Timeout | null = null;
  let last = 0;
  const flush = () => {
    timer = null;
    last = Date.now();
    const batch = pending;
    pending = [];
    if (batch.length > 0) out.pushVitals(batch);
  };
  const detach = source.attach({
    pushVitals(batch) {
      for (const ev of batch) pending.push(ev);
      if (timer) return;
      const wait = last + tickMs - Date.now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    pushScore: (ev) => out.pushScore(ev),
    pushAlert: (ev) => out.pushAlert(ev),
    pushDevice: (ev) => out.pushDevice(ev),
    pushEscalation: (ev) => out.pushEscalation(ev),
  });
  return {
    attach: (target) => out.attach(target),
    close() {
      detach();
      if (timer) clearTimeout(timer);
      timer = null;
      pending = [];
      out.close();
    },
  };
}

// ---------------------------------------------------------------- notifier

export interface Notifier {
  escalate(e: Escalation): void;
  /** Wait (bounded) for webhook deliveries in flight, then stop retrying. */
  close(): Promise<void>;
}

/** Escalations: Socket.IO to the dashboards always; the webhook (pager, SMS gateway) when configured. */
export function createNotifier(opts: {
  webhook: { url: string; secret: string } | null;
  feed: LivePush;
  attempts: BatchWriter<NotificationAttempt>;
  log: Logger;
  /** E-mail to the on-call addresses of the escalation's role (notify/notifications.ts); absent: none. */
  email?: { escalated(e: Escalation): void } | null;
}): Notifier {
  const { feed, attempts, log } = opts;
  const webhook = opts.webhook ? createWebhook({ ...opts.webhook, log, record: (a) => void attempts.push(a) }) : null;
  return {
    escalate(e) {
      feed.pushEscalation({ alarm: toAlertEvent(e.alarm), level: e.level, role: e.role, at: e.at });
      attempts.push({ alertId: e.alarm.id, level: e.level, role: e.role, channel: 'socket', target: null, attempt: 1, at: e.at, ok: true, status: null, error: null });
      webhook?.send(e);
      opts.email?.escalated(e);
      log.warn({ alarmId: e.alarm.id, level: e.level, role: e.role }, 'alarm escalated');
    },
    close: async () => {
      await webhook?.close();
    },
  };
}

// ---------------------------------------------------------------- the monitoring sinks

export interface Sinks {
  /** The monitoring engine's output: live state, database, dashboards, notifiers. */
  publish(o: EngineOutput): void;
  /**
   * The same for what a person did (an alarm action): resolves once its alarm and transition
   * rows are committed. Live state and dashboards hear it only then — a dashboard never shows an
   * action a crash could still lose (issue 14) — or, should the commit not be confirmed, once that
   * is known (the action stands in the engine; the rows stay queued).
   */
  publishDurable(o: EngineOutput): Promise<void>;
  /** Coalesced readings for the dashboards. */
  pushVitals(batch: VitalsEvent[]): void;
  /**
   * A device went online or offline: live state, dashboards and (for a provisioned device) its
   * row. False when that was already its status (a will, the disconnect and the retained status
   * can all say "offline"): nothing is announced twice.
   */
  deviceStatus(ev: DeviceStatusEvent, provisioned: boolean): boolean;
}

/** Routes results to the parts above; it holds nothing of its own, so there is nothing to close. */
export function createSinks(opts: { db: Database; live: LiveState; writers: Writers; feed: LivePush; notifier: Notifier; metrics: Metrics; log: Logger }): Sinks {
  const { db, live, writers, feed, notifier, metrics, log } = opts;
  // Alarms with a person's action waiting for its commit. A newer version of the alarm pushed
  // meanwhile (the engine's own step: a priority rise, a resolve) already carries the action, as
  // the engine's alarms are its whole state; the action's older version is then not pushed after it.
  let version = 0;
  const waiting = new Map<string, { version: number; count: number }>();
  const show = (a: Alarm) => {
    live.applyAlert(a);
    feed.pushAlert(toAlertEvent(a));
  };
  /** `durable`: collect the commits of the alarm and transition rows (only a person's action waits). */
  const publish = (o: EngineOutput, durable: Promise<void>[] | null) => {
    for (const l of o.latest) live.setLatest(l.patientId, l.latest);
    for (const ev of o.scores) {
      live.setScore(ev);
      writers.scores.push(ev);
      feed.pushScore(ev);
    }
    for (const a of o.alarms) {
      if (durable) {
        durable.push(writers.alerts.writeDurable(a));
        continue; // shown once stored (publishDurable)
      }
      writers.alerts.push(a);
      const w = waiting.get(a.id);
      if (w) w.version = ++version;
      show(a);
    }
    for (const t of o.transitions) {
      if (durable) durable.push(writers.transitions.writeDurable(t));
      else writers.transitions.push(t);
      // A new alarm is among this output's alarms (a search of every open alarm cost ~10 % of
      // the CPU at 5,000 beds: bench/README.md, profile).
      if (t.from === null) metrics.alertsRaised.inc({ priority: o.alarms.find((a) => a.id === t.alarmId)?.priority ?? 'unknown' });
    }
    for (const e of o.escalations) notifier.escalate(e);
  };
  return {
    publish: (o) => publish(o, null),
    publishDurable(o) {
      const writes: Promise<void>[] = [];
      publish(o, writes);
      const mine = ++version;
      for (const a of o.alarms) {
        const w = waiting.get(a.id) ?? { version: 0, count: 0 };
        waiting.set(a.id, { version: mine, count: w.count + 1 });
      }
      const shown = () => {
        for (const a of o.alarms) {
          const w = waiting.get(a.id)!;
          if (w.version === mine) show(a);
          if (--w.count === 0) waiting.delete(a.id);
        }
      };
      const stored = Promise.all(writes).then(() => undefined);
      // Not confirmed (ERR_UNAVAILABLE to the person): the engine acts on it all the same, so the
      // dashboards must not keep showing the alarm as it was before.
      stored.then(shown, (err: Error) => {
        log.warn({ err: err.message, alarms: o.alarms.map((a) => a.id) }, 'alarm action not confirmed stored; shown on the dashboards all the same');
        shown();
      });
      return stored;
    },
    pushVitals: (batch) => feed.pushVitals(batch),
    deviceStatus(ev, provisioned) {
      if (live.deviceStatusOf(ev.deviceId) === ev.status) return false;
      live.setDeviceStatus(ev.deviceId, ev.status);
      feed.pushDevice(ev);
      if (provisioned) {
        setDeviceStatus(db.driver, ev.deviceId, ev.status, new Date(ev.ts)).catch((err: Error) => log.warn({ err: err.message, deviceId: ev.deviceId }, 'device status not saved'));
      }
      return true;
    },
  };
}

// ---------------------------------------------------------------- the engine's own state

/**
 * The engine's state beyond readings and alarms, saved every `everyMs` and at close. Clinical
 * state (alarm delays, manual windows, the last full set, device status) every MONITOR_STATE_SAVE_S;
 * what each device reading moves (trend baselines, device facts) every MONITOR_TRENDS_SAVE_S —
 * rewriting every bed's trends every 10 s was most of the database traffic at 5,000 beds
 * (bench/README.md). close() saves everything: call it once the pipeline has drained.
 */
export function createMonitorStateSaver(opts: { engine: AlarmEngine; db: Database; log: Logger; everyMs: number; trendsEveryMs: number }): { close(): Promise<boolean>; stop(): void } {
  const { engine, db, log } = opts;
  let saving: Promise<void> = Promise.resolve();
  let saves = 0;
  /** The last save went through (close() answers it: the next start knows whether to trust it). */
  let saved = true;
  const slowEvery = Math.max(1, Math.round(opts.trendsEveryMs / opts.everyMs));
  const save = (all = false) => {
    const slow = ++saves % slowEvery === 0;
    const rows = engine.snapshots(all, slow).map((x) => ({ patientId: x.patientId, state: x.snapshot }));
    if (rows.length === 0) return saving;
    saving = saving
      .then(() => saveMonitorStates(db.driver, rows, Date.now()))
      .then(
        () => void (saved = true),
        (err: Error) => {
          saved = false;
          log.warn({ err: err.message, patients: rows.length }, 'monitor state not saved (retried at the next save)');
        },
      );
    return saving;
  };
  const timer = setInterval(() => void save(), opts.everyMs);
  timer.unref();
  return {
    /** True when everything was saved. */
    close() {
      clearInterval(timer);
      return save(true).then(() => saved);
    },
    /** Stop saving, without a last save (a cluster node that lost the partition's lease: the new owner writes now). */
    stop: () => clearInterval(timer),
  };
}
