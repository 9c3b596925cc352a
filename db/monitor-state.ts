// The monitoring engine's saved state per patient (table monitor_state, migration 006): what a
// restart needs beyond the readings and alarms already stored. See docs/alarms.md §7.
import type { Queryable } from './driver.ts';

export interface MonitorStateRow<S> {
  patientId: string;
  state: S;
}

export async function saveMonitorStates<S>(db: Queryable, rows: MonitorStateRow<S>[], at: number): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await db.query(
      `INSERT INTO monitor_state (patient_id, state, saved_at)
       SELECT id, st::jsonb, $3 FROM unnest($1::uuid[], $2::text[]) AS t(id, st)
       ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, saved_at = EXCLUDED.saved_at`,
      [chunk.map((r) => r.patientId), chunk.map((r) => JSON.stringify(r.state)), new Date(at).toISOString()],
    );
  }
}

export async function loadMonitorStates<S>(db: Queryable): Promise<Map<string, S>> {
  const { rows } = await db.query<{ patient_id: string; state: unknown }>(
    `SELECT m.patient_id, m.state FROM monitor_state m JOIN patients p ON p.id = m.patient_id WHERE p.archived_at IS NULL`,
  );
  const out = new Map<string, S>();
  for (const r of rows) out.set(r.patient_id, (typeof r.state === 'string' ? JSON.parse(r.state) : r.state) as S);
  return out;
}
