// What a cluster node keeps in step with the others (server/cluster/bus.ts): the live state and
// the dashboards' pushes its sinks make, and the caches the REST layer changes — patients (ward,
// bed, scale, alarm limits), devices (secret, patient) and revoked sessions. Only ids travel for
// patients and devices: each node reads the row from the shared database, so no patient details
// or secret hashes cross NATS.
import type { Logger } from 'pino';
import type { Database } from '../../db/index.ts';
import { getDevice, getPatient } from '../../db/records.ts';
import type { DeviceRegistry } from '../../broker/device-registry.ts';
import type { PatientsCache } from '../patients-cache.ts';
import type { SessionService } from '../auth/sessions.ts';
import type { LiveState } from '../realtime/live-state.ts';
import type { LivePush } from '../realtime/io.ts';
import type { ClusterBus } from './bus.ts';

/** The live state's changes the other nodes replay. */
export const LIVE_CHANGES = ['setLatest', 'setScore', 'applyAlert', 'setDeviceStatus'] as const satisfies readonly (keyof LiveState)[];
/** The dashboards' pushes the other nodes replay to their own sockets. */
export const LIVE_PUSHES = ['pushVitals', 'pushScore', 'pushAlert', 'pushDevice', 'pushEscalation'] as const satisfies readonly (keyof LivePush)[];

export function followPeers(bus: ClusterBus, deps: { db: Database; patients: PatientsCache; registry: DeviceRegistry; sessions: SessionService; log: Logger }): void {
  const { db, patients, registry, sessions, log } = deps;
  patients.onUpsert((p) => bus.announce('patient', p.id));
  registry.onUpsert((id) => bus.announce('device', id));
  sessions.onRevoke((sids) => bus.announce('revoked', sids));

  const reload = (what: string, id: unknown, load: (id: string) => Promise<void>) => {
    if (typeof id !== 'string') return;
    load(id).catch((err: Error) => log.warn({ err: err.message, [what]: id }, `cluster: a peer's change of a ${what} could not be read`));
  };
  bus.onChange('patient', (id) =>
    reload('patient', id, async (pid) => {
      const p = await getPatient(db.driver, pid);
      if (p) bus.applying(() => patients.upsert(p));
    }),
  );
  bus.onChange('device', (id) =>
    reload('device', id, async (did) => {
      const d = await getDevice(db.driver, did);
      if (d) bus.applying(() => registry.upsert({ id: d.id, secretHash: d.secretHash, patientId: d.patientId }));
    }),
  );
  bus.onChange('revoked', (sids) => {
    if (Array.isArray(sids)) sessions.revokedElsewhere(sids.filter((s): s is string => typeof s === 'string'));
  });
}
