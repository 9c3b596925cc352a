// Stream wiring of the monitoring pipeline, as small named RxJS operators. No I/O and no
// Promises in here: the database and Socket.IO are sinks at the edge (server/server.ts), and time
// comes from an injectable scheduler so the operators are marble-tested under virtual time.
import { asyncScheduler, bufferTime, defer, endWith, filter, ignoreElements, interval, map, merge, share, takeUntil, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Reading } from '../domain/vitals.ts';
import type { VitalsEvent } from '../domain/events.ts';
import { isEmpty, type AlarmEngine, type EngineOutput } from './alarms/engine.ts';

export type { PatientContext } from './alarms/engine.ts';

/**
 * Coalesce readings per patient over one tick: a busy ward sends a few messages per second to
 * dashboards, not one per reading. One timer for all patients.
 */
export function coalesceVitals(tickMs: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<Reading, VitalsEvent[]> {
  return (source) =>
    source.pipe(
      filter((r) => r.patientId !== null),
      bufferTime(tickMs, scheduler),
      filter((batch) => batch.length > 0),
      map(mergeTick),
    );
}

export function mergeTick(batch: Reading[]): VitalsEvent[] {
  const byPatient = new Map<string, VitalsEvent>();
  for (const r of batch) {
    const id = r.patientId!;
    const key = r.source === 'manual' ? `${id}|m` : id;
    const ev = byPatient.get(key);
    const at = Math.min(r.ts, r.receivedAt);
    if (!ev) {
      byPatient.set(key, { patientId: id, deviceId: r.deviceId, ts: r.ts, at, source: r.source, values: { ...r.values } });
    } else if (r.ts >= ev.ts) {
      ev.values = { ...ev.values, ...r.values };
      ev.ts = r.ts;
      ev.at = at;
      ev.deviceId = r.deviceId;
    } else {
      ev.values = { ...r.values, ...ev.values };
    }
  }
  return [...byPatient.values()];
}

export type MonitorInput =
  | { type: 'reading'; reading: Reading; battery?: number; backfill?: boolean; noSignal?: readonly string[] }
  | { type: 'device'; deviceId: string; patientId: string | null; status: 'online' | 'offline' }
  | { type: 'implausible'; deviceId: string; patientId: string | null; at: number };

/**
 * Feed readings, device status and artifact notes to the monitoring engine, plus a clock tick so
 * time alone can move things (alarm delays, silence expiry, escalation, a device gone quiet,
 * values going stale). Emits only what changed. Time comes from `scheduler`.
 */
export function monitorPatients(engine: AlarmEngine, tickMs: number, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<MonitorInput, EngineOutput> {
  return (source) =>
    defer(() => {
      const events = source.pipe(share());
      return merge(
      events.pipe(
        map((ev): EngineOutput | null => {
          const now = scheduler.now();
          if (ev.type === 'reading') return engine.reading(ev.reading, now, ev.battery, ev.backfill, ev.noSignal);
          if (ev.type === 'device') return engine.deviceStatus(ev.deviceId, ev.patientId, ev.status, now);
          engine.implausible(ev.deviceId, ev.patientId, ev.at);
          return null;
        }),
      ),
      interval(tickMs, scheduler).pipe(
        map(() => engine.tick(scheduler.now())),
        takeUntil(events.pipe(ignoreElements(), endWith(null))),
      ),
      );
    }).pipe(filter((o): o is EngineOutput => o !== null && !isEmpty(o)));
}
