// What goes into the monitoring pipeline: device telemetry from the broker's hooks (decoded,
// counted, refusals recorded), manual observations from the REST routes and alarm commands from
// nurses. Readings are stored and coalesced for the dashboards; everything the engine must hear
// goes through `monitorPatients`, whose output is handed to the sinks (sinks.ts), made before this.
// Also admission control, which decides whether a device may connect at all.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { BrokerHooks } from '../broker/index.ts';
import type { DeviceRegistry } from '../broker/device-registry.ts';
import { Admission } from '../broker/admission.ts';
import type { IngestErrorRow } from '../db/vitals-store.ts';
import type { BatchWriter } from '../db/batch-writer.ts';
import type { Metrics } from './metrics.ts';
import type { RefusalRecorder } from './mqtt-refusals.ts';
import { Errors, fail } from './errors.ts';
import { decodeTelemetry } from './pipeline/decode.ts';
import { coalesceVitals, monitorPatients, type MonitorInput } from './pipeline/operators.ts';
import type { Reading } from './domain/vitals.ts';
import type { Actor, AlarmAction } from './domain/alarms.ts';
import type { AlarmEngine } from './pipeline/alarms/engine.ts';
import { seqMissing } from './pipeline/alarms/technical.ts';
import { takeNoSignal } from './pipeline/no-signal.ts';
import { toAlertEvent } from './realtime/events.ts';
import type { AlertEvent } from './domain/events.ts';
import type { Sinks } from './sinks.ts';
import { confirmed } from './durable.ts';

export interface IngressOptions {
  engine: AlarmEngine;
  sinks: Sinks;
  writers: { vitals: BatchWriter<Reading>; errors: BatchWriter<IngestErrorRow> };
  registry: DeviceRegistry;
  /** Connections refused before authentication: counted, not recorded one by one. */
  refusals: RefusalRecorder;
  metrics: Metrics;
  log: Logger;
  /** Readings are coalesced for the dashboards over this tick (LIVE_TICK_MS). */
  liveTickMs: number;
  /** The per-device rate limit, for the refusal's wording (DEVICE_MAX_MSG_PER_S, DEVICE_MSG_BURST). */
  rateLimit: { perS: number; burst: number };
}

export interface Ingress {
  /** For createBroker. */
  hooks: BrokerHooks;
  /** What a device is told about its refused input (`devices/{id}/errors`): the broker publishes these. */
  deviceErrors: Observable<{ deviceId: string; body: object }>;
  /** A manual observation (REST): stored and scored like device data. */
  ingestManual(reading: Reading): void;
  /**
   * Acknowledge, silence or resolve an open alarm; resolves once its alarm and transition rows are
   * committed (docs/decisions/0024); the dashboards hear it once they are, just before this answers.
   * Throws ERR_NOT_FOUND or ERR_ILLEGAL_TRANSITION (nothing done), or ERR_UNAVAILABLE (done, but not
   * confirmed stored: it stays queued, and the dashboards are shown it, as the engine acts on it).
   */
  actOnAlarm(id: string, action: AlarmAction, actor: Actor, comment: string | null): Promise<AlertEvent>;
  /** Complete the streams: what the pipeline still holds drains into the sinks. */
  close(): void;
}

export function createIngress(opts: IngressOptions): Ingress {
  const { engine, sinks, writers, registry, refusals, metrics, log } = opts;
  const readings$ = new Subject<Reading>();
  const monitor$ = new Subject<MonitorInput>();
  const deviceErrors$ = new Subject<{ deviceId: string; body: object }>();
  const subscriptions = [
    readings$.pipe(coalesceVitals(opts.liveTickMs)).subscribe((batch) => sinks.pushVitals(batch)),
    monitor$.pipe(monitorPatients(engine, 1000)).subscribe((o) => sinks.publish(o)),
  ];

  /** Queue `row`; with `durable`, also collect its promise (true once durable, false if never stored). */
  const write = <T extends object>(writer: BatchWriter<T>, row: T, durable?: Promise<boolean>[]) => {
    if (durable) durable.push(writer.pushDurable(row));
    else writer.push(row);
  };

  /** `durable`: when given, collects a promise per stored row (true once durable, false if never stored). */
  const ingest = (r: Reading, battery?: number, backfill = false, noSignal: readonly string[] = [], durable?: Promise<boolean>[]) => {
    metrics.readingsReceived.inc({ source: r.source });
    // A reading that held nothing but "no signal" (SpO2 0) has no value to store or show; the
    // engine still hears it (the technical alarm).
    if (Object.keys(r.values).length > 0 || noSignal.length === 0) {
      write(writers.vitals, r, durable);
      readings$.next(r);
    }
    monitor$.next({ type: 'reading', reading: r, battery, backfill, noSignal });
  };

  const recordErrors = (
    deviceId: string | null,
    topic: string,
    payload: Buffer | undefined,
    issues: Omit<IngestErrorRow, 'ts' | 'deviceId' | 'topic' | 'payload'>[],
    durable?: Promise<boolean>[],
  ) => {
    const ts = Date.now();
    const text = payload ? payload.subarray(0, 1024).toString('utf8') : undefined;
    for (const i of issues) write(writers.errors, { ts, deviceId, topic, payload: text, ...i }, durable);
  };

  const deviceStatusChanged = (deviceId: string, status: 'online' | 'offline', at: number) => {
    const patientId = registry.patientOf(deviceId);
    if (!sinks.deviceStatus({ deviceId, patientId, status, ts: at }, registry.get(deviceId) !== undefined)) return;
    registry.statsOf(deviceId).connected = status === 'online';
    monitor$.next({ type: 'device', deviceId, patientId, status });
  };

  const hooks: BrokerHooks = {
    onVitals(deviceId, payload, topic, receivedAt, qos = 0) {
      // QoS 1: the PUBACK waits for every row this message leads to — its readings, and the record
      // of what was refused in it — to be durable (ADR 0023). QoS 0: nothing waits but back-pressure.
      const durable: Promise<boolean>[] | undefined = qos > 0 ? [] : undefined;
      const { readings, issues } = decodeTelemetry(payload, receivedAt);
      const stats = registry.statsOf(deviceId);
      stats.lastSeenAt = receivedAt;
      if (issues.length > 0) {
        const refused = issues.filter((i) => i.refused).length;
        stats.refused += refused;
        metrics.readingsRefused.inc(refused);
        metrics.fieldsRefused.inc(issues.length - refused);
        recordErrors(deviceId, topic, payload, issues, durable);
        deviceErrors$.next({ deviceId, body: { topic, ts: receivedAt, issues } });
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
        ingest({ ts: d.ts, values, seq: d.seq, deviceId, patientId, source: 'device', receivedAt }, d.battery, readings.length > 1, noSignal, durable);
      }
      // The database is behind: hold this device's next packet until the buffer drains.
      const writable = writers.vitals.whenWritable();
      if (!durable) return writable;
      if (writable) durable.push(writable.then(() => true));
      return durable.length === 0 ? null : Promise.all(durable).then((all) => all.every(Boolean));
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
        ? `rate limit exceeded for 10 s (${opts.rateLimit.perS} msg/s): disconnected`
        : `rate limit exceeded (${opts.rateLimit.perS} msg/s, burst ${opts.rateLimit.burst}): ${dropped} message(s) dropped`;
      recordErrors(deviceId, topic, undefined, [{ reason, refused: true }]);
    },
  };

  return {
    hooks,
    deviceErrors: deviceErrors$.asObservable(),
    ingestManual: (reading) => ingest(reading),
    async actOnAlarm(id, action, actor, comment) {
      const r = engine.act(id, action, actor, Date.now(), comment);
      if (!r.ok) {
        if (r.code === 'ERR_NOT_FOUND') throw Errors.notFound('open alarm', id);
        throw fail('ERR_ILLEGAL_TRANSITION', r.message);
      }
      await confirmed(sinks.publishDurable(r.output));
      return toAlertEvent(r.alarm);
    },
    close() {
      readings$.complete();
      monitor$.complete();
      deviceErrors$.complete();
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}

// ---------------------------------------------------------------- admission control

export interface AdmissionControl {
  /** For createBroker: false while the node is overloaded (new devices get CONNACK 3). */
  admit(): boolean;
  /** Begin measuring: call once listening, so the start's own work (migrations, restore) is not load. */
  start(): void;
  close(): void;
}

/**
 * Admission control (broker/admission.ts, docs/architecture.md "Overload"): every 500 ms the
 * event loop's p99 delay and the vitals writer's buffer say whether the node keeps up; while it
 * does not, new device connections get CONNACK 3 and the devices already in keep their latency.
 */
export function createAdmissionControl(opts: {
  maxLagMs: number;
  holdMs: number;
  vitals: BatchWriter<Reading>;
  /** The vitals buffer counts as behind from half of this (WRITE_BUFFER_MAX). */
  vitalsBufferMax: number;
  metrics: Metrics;
  log: Logger;
}): AdmissionControl {
  const { vitals, metrics, log } = opts;
  const admission = new Admission({ maxLagMs: opts.maxLagMs, holdMs: opts.holdMs });
  const loopLag = monitorEventLoopDelay({ resolution: 10 });
  let overloaded = false;
  let timer: NodeJS.Timeout | null = null;
  const sample = () => {
    const now = Date.now();
    admission.sample(loopLag.percentile(99) / 1e6, vitals.depth >= opts.vitalsBufferMax / 2, now);
    loopLag.reset();
    const state = admission.state(now);
    if (state.overloaded === overloaded) return;
    overloaded = state.overloaded;
    metrics.overloaded.set(overloaded ? 1 : 0);
    if (overloaded) log.warn({ event: 'overloaded', loopDelayP99Ms: Math.round(state.lagMs), vitalsBuffered: vitals.depth }, 'node overloaded: new device connections are refused (CONNACK 3) until it keeps up');
    else log.warn({ event: 'overload_over' }, 'node keeps up again: device connections admitted');
  };
  return {
    admit: () => admission.admit(Date.now()),
    start() {
      if (timer) return;
      loopLag.enable();
      timer = setInterval(sample, 500);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      loopLag.disable();
    },
  };
}
