// Building a monitoring engine from the database: at a start (one node), or when a cluster node
// takes a partition over (server/cluster/node.ts). A restart forgets nothing clinical
// (docs/alarms.md §7): alarms left open resume their lifecycle; the latest values, the last full
// observation set, pending alarm delays, device facts and trend baselines are restored, so
// scores, timers and alarms continue where they were.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Database } from '../db/index.ts';
import { readingsToRestore } from '../db/vitals-store.ts';
import { listAlerts } from '../db/records.ts';
import { loadMonitorStates } from '../db/monitor-state.ts';
import { AlarmEngine, DEFAULT_ENGINE, type MonitorSnapshot } from './pipeline/alarms/engine.ts';
import { MEDIAN_WINDOW_MS } from './pipeline/latest.ts';
import type { Freshness } from './domain/vitals.ts';
import type { PatientsCache } from './patients-cache.ts';
import type { LiveState } from './realtime/live-state.ts';
import type { Sinks } from './sinks.ts';

type EngineSettings = Pick<Config, 'SILENCE_S' | 'ESCALATE_AFTER_S' | 'ESCALATE_MEDIUM_AFTER_S' | 'ESCALATION_ROLES' | 'DEVICE_SILENCE_S' | 'NEWS2_SINGLE_THREE_PRIORITY'>;

/**
 * An engine holding every patient `owns` accepts (all of them on one node; a partition's in a
 * cluster), restored from the database; their open alarms and latest values also go to `live`.
 */
export async function restoreMonitoring(
  db: Database,
  config: EngineSettings,
  freshness: Freshness,
  patients: PatientsCache,
  live: Pick<LiveState, 'applyAlert' | 'setLatest'>,
  log: Logger,
  owns: (patientId: string) => boolean = () => true,
): Promise<AlarmEngine> {
  const restored = (await listAlerts(db.driver, { state: 'open', limit: 100_000, offset: 0 })).items.filter((a) => owns(a.patientId));
  for (const a of restored) live.applyAlert(a);
  const states = await loadMonitorStates<MonitorSnapshot>(db.driver);
  for (const id of [...states.keys()]) if (!owns(id)) states.delete(id);
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
    states,
    startedAt,
  );
  const toRestore = await readingsToRestore(db.driver, startedAt, {
    continuousMs: Math.max(freshness.deviceMs, MEDIAN_WINDOW_MS),
    intermittentMs: freshness.intermittentMs,
    manualMs: freshness.manualMs,
  });
  let count = 0;
  for (const [patientId, readings] of toRestore) {
    if (!patients.get(patientId) || !owns(patientId)) continue;
    live.setLatest(patientId, engine.restoreReadings(patientId, readings, startedAt));
    count++;
  }
  if (count > 0) log.info({ patients: count }, 'latest values restored');
  return engine;
}

/** What a start after an unclean end of the previous run (or a takeover from a dead node) notes. */
export interface Unclean {
  /** Appended to each transition the reconciliation makes, in brackets. */
  note: string;
  /** The log line. */
  why: string;
  context?: Record<string, unknown>;
}

export const UNCLEAN_SHUTDOWN: Unclean = { note: 'reconciled after an unclean shutdown', why: 'the previous run did not shut down cleanly' };

/**
 * Re-derive the open alarms now, before devices and dashboards connect (docs/alarms.md §7): the
 * engine evaluates every restored patient. After an unclean end of the previous run (a crash, or a
 * cluster node that died holding the partition) the database may be behind what the dashboards
 * last saw (the engine's own transitions are not waited for, and the monitor state is saved
 * periodically), and each transition this makes says so (`unclean`; null: a clean start).
 */
export function reconcileAlarms(engine: AlarmEngine, sinks: Sinks, unclean: Unclean | null, log: Logger): void {
  const out = engine.reconcile(Date.now(), unclean?.note ?? null);
  sinks.publish(out);
  if (!unclean) return;
  const count = (to: string) => out.transitions.filter((t) => t.to === to).length;
  log.warn(
    { event: 'unclean_shutdown', ...unclean.context, raised: out.transitions.filter((t) => t.from === null).length, reactivated: out.transitions.filter((t) => t.from !== null && t.to === 'active').length, resolved: count('resolved') },
    `${unclean.why}: open alarms re-derived from their conditions and the restored latest values`,
  );
}
