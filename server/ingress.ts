// The edge of the data path: device telemetry from the broker's hooks is decoded, counted and
// its refusals recorded, manual observations come from the REST routes, and what is valid is
// handed to the monitoring side (monitoring.ts) as `MonitorMessage`s — on one node directly, in a
// cluster through the ingest log to the partition's owner (server/cluster/, ADR 0026).
// Also admission control, which decides whether a device may connect at all.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { BrokerHooks } from '../broker/index.ts';
import type { AuthResult, DeviceRegistry } from '../broker/device-registry.ts';
import { RateLimiter } from '../broker/rate-limit.ts';
import { Admission } from '../broker/admission.ts';
import type { IngestErrorRow } from '../db/vitals-store.ts';
import type { BatchWriter } from '../db/batch-writer.ts';
import type { Metrics } from './metrics.ts';
import type { RefusalRecorder } from './mqtt-refusals.ts';
import { decodeTelemetry, type DecodeResult } from './pipeline/decode.ts';
import type { Reading } from './domain/vitals.ts';
import { seqMissing } from './pipeline/alarms/technical.ts';
import { takeNoSignal } from './pipeline/no-signal.ts';
import type { Sinks } from './sinks.ts';
import { Errors } from './errors.ts';
import type { ActOnAlarm, MonitorMessage } from './monitoring.ts';
import type { LabCriticalResult } from './pipeline/alarms/lab-critical.ts';

/** Where the edge hands validated input: the node's own engine, or the cluster's ingest log. */
export interface MonitorInlet {
  /** `durable`, when given, collects one promise per row (true once durable, false if never stored). */
  deliver(m: MonitorMessage, durable?: Promise<boolean>[]): void;
  /** Back-pressure: resolves once the next device packet may be taken; null: at once. */
  whenWritable(): Promise<void> | null;
  actOnAlarm: ActOnAlarm;
}

export interface IngressOptions {
  inlet: MonitorInlet;
  sinks: Sinks;
  writers: { errors: BatchWriter<IngestErrorRow> };
  registry: DeviceRegistry;
  /** Connections refused before authentication: counted, not recorded one by one. */
  refusals: RefusalRecorder;
  metrics: Metrics;
  log: Logger;
  /** The per-device rate limit, for the refusal's wording (DEVICE_MAX_MSG_PER_S, DEVICE_MSG_BURST). */
  rateLimit: { perS: number; burst: number };
}

export interface Ingress {
  /** For createBroker. */
  hooks: BrokerHooks;
  /** What a device is told about its refused input (`devices/{id}/errors`): the broker publishes these. */
  deviceErrors: Observable<{ deviceId: string; body: object }>;
  /**
   * A manual observation (REST): stored and scored like device data. Resolves once it is durable
   * (the 201 waits for it); ERR_UNAVAILABLE when that is not confirmed.
   */
  ingestManual(reading: Reading): Promise<void>;
  /**
   * Critical results of a lab order: a high-priority alarm each, raised by the engine that holds
   * the patient (this node's, or in a cluster the partition owner's, through the ingest log).
   * Resolves once that is durable — the alarm rows committed on one node, the message on a
   * majority of the log's replicas in a cluster; ERR_UNAVAILABLE when that is not confirmed.
   */
  raiseLabCritical(patientId: string, orderId: string, results: LabCriticalResult[]): Promise<void>;
  /** See MonitorInlet.actOnAlarm. */
  actOnAlarm: ActOnAlarm;
  /** Telemetry over HTTP (POST /api/telemetry, docs/device-protocol.md "HTTP"): the MQTT path's rules. */
  http: HttpTelemetry;
  close(): void;
}

/** The HTTP door to the same path as MQTT telemetry: one registry, one decoder, one inlet. */
export interface HttpTelemetry {
  /**
   * Check a device's secret with the registry MQTT uses: the same failure counting and lockout per
   * (device, address); a lockout of a provisioned device is recorded as for MQTT.
   */
  authenticate(deviceId: string, secret: string, address: string): Promise<AuthResult>;
  /**
   * One request's body from an authenticated device. Over the rate limit: `retryAfterS`, nothing
   * taken (the refusal is recorded at most once a second). Otherwise what was decoded, and
   * `stored`: true once every row it leads to (readings, refusals) is durable — what a QoS 1
   * PUBACK waits for (ADR 0023) — false if any of it will not be stored.
   */
  ingest(deviceId: string, payload: Buffer, receivedAt: number): { retryAfterS: number } | (DecodeResult & { stored: Promise<boolean> });
}

/** The topic recorded with ingest errors of HTTP telemetry (MQTT ones carry their topic). */
export const HTTP_TELEMETRY_TOPIC = '(http) POST /api/telemetry';

export function createIngress(opts: IngressOptions): Ingress {
  const { inlet, sinks, writers, registry, refusals, metrics, log } = opts;
  const deviceErrors$ = new Subject<{ deviceId: string; body: object }>();

  /** Queue `row`; with `durable`, also collect its promise (true once durable, false if never stored). */
  const write = <T extends object>(writer: BatchWriter<T>, row: T, durable?: Promise<boolean>[]) => {
    if (durable) durable.push(writer.pushDurable(row));
    else writer.push(row);
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
    inlet.deliver({ type: 'device', deviceId, patientId, status });
  };

  /**
   * One telemetry message of an authenticated device (MQTT or HTTP): decoded, counted, its refusals
   * recorded and its readings handed to the inlet; with `durable`, one promise per row written.
   */
  const take = (deviceId: string, payload: Buffer, topic: string, receivedAt: number, durable?: Promise<boolean>[]): DecodeResult => {
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
    for (const i of issues) if (i.implausible) inlet.deliver({ type: 'implausible', deviceId, patientId, at: receivedAt });
    if (readings.length > 0) {
      for (const d of readings) {
        if (d.seq !== undefined) {
          stats.seqGaps += seqMissing(stats.lastSeq, d.seq);
          stats.lastSeq = d.seq;
        }
        stats.readings++;
      }
      inlet.deliver(
        {
          type: 'readings',
          deviceId,
          patientId,
          receivedAt,
          // SpO2 0 is "no signal", not a measurement: neither stored nor scored (no-signal.ts).
          readings: readings.map((d) => {
            const { values, noSignal } = takeNoSignal(d.values);
            return { ts: d.ts, values, seq: d.seq, battery: d.battery, noSignal };
          }),
        },
        durable,
      );
    }
    return { readings, issues };
  };

  const hooks: BrokerHooks = {
    onVitals(deviceId, payload, topic, receivedAt, qos = 0) {
      // QoS 1: the PUBACK waits for every row this message leads to — its readings, and the record
      // of what was refused in it — to be durable (ADR 0023). QoS 0: nothing waits but back-pressure.
      const durable: Promise<boolean>[] | undefined = qos > 0 ? [] : undefined;
      take(deviceId, payload, topic, receivedAt, durable);
      // The database (or the ingest log) is behind: hold this device's next packet until it drains.
      const writable = inlet.whenWritable();
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

  // HTTP devices have a bucket of their own per node, with MQTT's rate and burst (the broker's
  // limiter lives inside it, for connections): a device uses one transport or the other.
  const httpLimiter = new RateLimiter({ ratePerS: opts.rateLimit.perS, burst: opts.rateLimit.burst });
  const http: HttpTelemetry = {
    async authenticate(deviceId, secret, address) {
      const r = await registry.authenticate(deviceId, secret, address);
      if (!r.ok && r.lockout) hooks.onLockout?.(deviceId, address, r.lockout, registry.get(deviceId) !== undefined);
      return r;
    },
    ingest(deviceId, payload, receivedAt) {
      const v = httpLimiter.check(deviceId, receivedAt);
      if (!v.ok) {
        // Refused with 429, never taken: the device keeps the readings and sends them again.
        metrics.rateLimited.inc();
        registry.statsOf(deviceId).refused++;
        if (v.report > 0) {
          recordErrors(deviceId, HTTP_TELEMETRY_TOPIC, undefined, [
            { reason: `rate limit exceeded (${opts.rateLimit.perS} msg/s, burst ${opts.rateLimit.burst}): ${v.report} request(s) refused with 429`, refused: true },
          ]);
        }
        return { retryAfterS: Math.max(1, Math.ceil(1 / opts.rateLimit.perS)) };
      }
      const durable: Promise<boolean>[] = [];
      const decoded = take(deviceId, payload, HTTP_TELEMETRY_TOPIC, receivedAt, durable);
      const writable = inlet.whenWritable();
      if (writable) durable.push(writable.then(() => true));
      const stored = Promise.all(durable).then(
        (all) => all.every(Boolean),
        () => false,
      );
      return { ...decoded, stored };
    },
  };

  return {
    hooks,
    http,
    deviceErrors: deviceErrors$.asObservable(),
    async ingestManual(reading) {
      const durable: Promise<boolean>[] = [];
      inlet.deliver({ type: 'manual', reading }, durable);
      const stored = await Promise.all(durable).then(
        (all) => all.every(Boolean),
        () => false,
      );
      if (!stored) throw Errors.unavailable('the observation is not confirmed stored (the database is unavailable and the spill full or off); record it again once the service is back');
    },
    async raiseLabCritical(patientId, orderId, results) {
      const durable: Promise<boolean>[] = [];
      inlet.deliver({ type: 'lab-critical', patientId, orderId, results }, durable);
      const stored = await Promise.all(durable).then(
        (all) => all.every(Boolean),
        () => false,
      );
      if (!stored) throw Errors.unavailable(`the results are stored, but the critical-result alarm is not confirmed (the database or the cluster's log is unavailable): tell the ward directly`);
    },
    actOnAlarm: (id, action, actor, comment) => inlet.actOnAlarm(id, action, actor, comment),
    close() {
      deviceErrors$.complete();
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
