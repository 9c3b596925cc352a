// The monitoring side of the data path: validated input (a device's decoded readings, a manual
// observation, a device going online or offline, an artifact note, an order's critical lab
// results) enters one monitoring engine
// here, its readings are stored and coalesced for the dashboards, and what the engine decides goes
// to the sinks. The edge (ingress.ts: the broker's hooks and the REST routes) hands input over as
// `MonitorMessage`s: directly on one node, or through the cluster's ingest log to the node that
// owns the patient's partition (server/cluster/, ADR 0026) — so a message is plain JSON.
import { Subject } from 'rxjs';
import type { BatchWriter } from '../db/batch-writer.ts';
import type { Metrics } from './metrics.ts';
import { Errors, fail } from './errors.ts';
import { coalesceVitals, monitorPatients, type MonitorInput } from './pipeline/operators.ts';
import type { Reading, VitalValues } from './domain/vitals.ts';
import type { Actor, AlarmAction } from './domain/alarms.ts';
import type { AlarmEngine } from './pipeline/alarms/engine.ts';
import type { LabCriticalResult } from './pipeline/alarms/lab-critical.ts';
import { toAlertEvent } from './realtime/events.ts';
import type { AlertEvent } from './domain/events.ts';
import type { Sinks } from './sinks.ts';
import { confirmed } from './durable.ts';

/** One decoded device reading, as the edge validated it. */
export interface DeviceReading {
  ts: number;
  values: VitalValues;
  seq?: number;
  battery?: number;
  /** Parameters the device sent as "no signal" (SpO2 0): not values, but the engine hears them. */
  noSignal: string[];
}

export type MonitorMessage =
  /** The readings of one device message (more than one: a backfill after a reconnect). */
  | { type: 'readings'; deviceId: string; patientId: string | null; receivedAt: number; readings: DeviceReading[] }
  | { type: 'manual'; reading: Reading }
  | { type: 'device'; deviceId: string; patientId: string | null; status: 'online' | 'offline' }
  | { type: 'implausible'; deviceId: string; patientId: string | null; at: number }
  /** Critical results of one lab order (LL/HH): a high-priority alarm each (pipeline/alarms/lab-critical.ts). */
  | { type: 'lab-critical'; patientId: string; orderId: string; results: LabCriticalResult[] };

/** The patient a message is about (null: an unassigned device's), which decides its partition. */
export function patientOfMessage(m: MonitorMessage): string | null {
  return m.type === 'manual' ? m.reading.patientId : m.patientId;
}

/** The device a message came from (null: none — an observation, a lab result). */
export function deviceOfMessage(m: MonitorMessage): string | null {
  if (m.type === 'manual') return m.reading.deviceId;
  return m.type === 'lab-critical' ? null : m.deviceId;
}

/** Alarm actions by people, on whichever node (or partition) holds the alarm. */
export type ActOnAlarm = (id: string, action: AlarmAction, actor: Actor, comment: string | null) => Promise<AlertEvent>;

export interface Monitoring {
  /**
   * Take a message. `durable`, when given, collects one promise per row it stores (true once
   * durable, false if never stored): a QoS 1 PUBACK or a 201 waits for them.
   */
  accept(m: MonitorMessage, durable?: Promise<boolean>[]): void;
  /** Whether this engine holds the open alarm `id`. */
  holds(alarmId: string): boolean;
  /**
   * Acknowledge, silence or resolve an open alarm; resolves once its alarm and transition rows are
   * committed (docs/decisions/0024); the dashboards hear it once they are, just before this answers.
   * Throws ERR_NOT_FOUND or ERR_ILLEGAL_TRANSITION (nothing done), or ERR_UNAVAILABLE (done, but not
   * confirmed stored: it stays queued, and the dashboards are shown it, as the engine acts on it).
   */
  actOnAlarm: ActOnAlarm;
  /** Complete the streams: what the pipeline still holds drains into the sinks. */
  close(): void;
}

export function createMonitoring(opts: {
  engine: AlarmEngine;
  sinks: Sinks;
  vitals: BatchWriter<Reading>;
  metrics: Metrics;
  /** Readings are coalesced for the dashboards over this tick (LIVE_TICK_MS). */
  liveTickMs: number;
}): Monitoring {
  const { engine, sinks, vitals, metrics } = opts;
  const readings$ = new Subject<Reading>();
  const monitor$ = new Subject<MonitorInput>();
  const subscriptions = [
    readings$.pipe(coalesceVitals(opts.liveTickMs)).subscribe((batch) => sinks.pushVitals(batch)),
    monitor$.pipe(monitorPatients(engine, 1000)).subscribe((o) => sinks.publish(o)),
  ];

  const ingest = (r: Reading, durable: Promise<boolean>[] | undefined, battery?: number, backfill = false, noSignal: readonly string[] = []) => {
    metrics.readingsReceived.inc({ source: r.source });
    // A reading that held nothing but "no signal" (SpO2 0) has no value to store or show; the
    // engine still hears it (the technical alarm).
    if (Object.keys(r.values).length > 0 || noSignal.length === 0) {
      if (durable) durable.push(vitals.pushDurable(r));
      else vitals.push(r);
      readings$.next(r);
    }
    monitor$.next({ type: 'reading', reading: r, battery, backfill, noSignal });
  };

  return {
    accept(m, durable) {
      switch (m.type) {
        case 'readings':
          for (const d of m.readings) {
            const r: Reading = { ts: d.ts, values: d.values, seq: d.seq, deviceId: m.deviceId, patientId: m.patientId, source: 'device', receivedAt: m.receivedAt };
            ingest(r, durable, d.battery, m.readings.length > 1, d.noSignal);
          }
          return;
        case 'manual':
          return ingest(m.reading, durable);
        case 'device':
          return monitor$.next({ type: 'device', deviceId: m.deviceId, patientId: m.patientId, status: m.status });
        case 'implausible':
          return monitor$.next({ type: 'implausible', deviceId: m.deviceId, patientId: m.patientId, at: m.at });
        case 'lab-critical': {
          // Straight to the engine, as an alarm action is: nothing to coalesce, and whoever waits
          // (the results PUT, a cluster partition's watermark) waits for the alarm and transition
          // rows to commit (sinks.publishDurable), so a 200 means the alarm outlives a crash.
          const out = engine.labCritical(m.patientId, m.orderId, m.results, Date.now());
          const stored = sinks.publishDurable(out);
          durable?.push(stored.then(() => true, () => false));
          return;
        }
      }
    },
    holds: (id) => engine.findOpen(id) !== undefined,
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
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}
