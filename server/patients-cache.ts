// In-memory view of the active patients (ward, bed, SpO2 scale, alarm limits): the pipeline reads
// a patient's scoring context and the live layer a patient's ward on every message, without SQL.
import type { Patient } from '../db/records.ts';
import type { PatientContext } from './pipeline/operators.ts';

export class PatientsCache {
  private readonly byId = new Map<string, Patient>();
  private readonly listeners = new Set<(p: Patient) => void>();

  load(patients: Iterable<Patient>): void {
    this.byId.clear();
    for (const p of patients) this.byId.set(p.id, p);
  }

  upsert(p: Patient): void {
    if (p.archivedAt) this.byId.delete(p.id);
    else this.byId.set(p.id, p);
    for (const l of this.listeners) l(p);
  }

  /** Be told of every upsert (a cluster node tells the others: server/cluster/follow.ts); returns the unsubscribe. */
  onUpsert(listener: (p: Patient) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get(id: string): Patient | undefined {
    return this.byId.get(id);
  }

  /**
   * The cached patient, else the database's row (kept, without telling anyone: it is no change).
   * In a cluster, a patient admitted through another node a moment ago may not have reached this
   * node's cache yet; a request that names it must not be refused for that.
   */
  async getOrLoad(id: string, load: (id: string) => Promise<Patient | null>): Promise<Patient | undefined> {
    const cached = this.byId.get(id);
    if (cached) return cached;
    const p = await load(id);
    if (!p || p.archivedAt) return undefined;
    this.byId.set(p.id, p);
    return p;
  }

  context(id: string): PatientContext | undefined {
    const p = this.byId.get(id);
    return p ? { spo2Scale: p.spo2Scale, limits: p.alarmLimits } : undefined;
  }

  wardOf(id: string): string | undefined {
    return this.byId.get(id)?.ward ?? undefined;
  }

  inWard(ward: string): Patient[] {
    return [...this.byId.values()].filter((p) => p.ward === ward);
  }
}
