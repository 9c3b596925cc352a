// The `reports` table: every statement of the reports feature (reports.routes.ts only wires; the
// files themselves live in FileStorage). The storage key is the server's own: it never leaves
// this module and the route's file stream.
import type { Row } from '../../db/driver.ts';
import { Where, isoAt, page, type Page } from '../../db/rows.ts';
import { auditEntry, type Actor, type RepoDeps } from './repository.ts';

export interface Report {
  id: string;
  patientId: string;
  fileName: string;
  contentType: string;
  size: number;
  uploadedBy: string | null;
  createdAt: string;
}
export interface StoredReport extends Report {
  storageKey: string;
}

const COLS = 'id, patient_id, file_name, content_type, size, storage_key, uploaded_by, created_at';
const toReport = (r: Row): StoredReport => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  fileName: r.file_name as string,
  contentType: r.content_type as string,
  size: Number(r.size),
  storageKey: r.storage_key as string,
  uploadedBy: (r.uploaded_by as string | null) ?? null,
  createdAt: isoAt(r.created_at),
});
/** A report as the API shows it: without where its bytes are kept. */
export const publicReport = ({ storageKey: _internal, ...rest }: StoredReport): Report => rest;

export class ReportStore {
  constructor(private readonly deps: RepoDeps) {}

  /** The row by id, unscoped and unaudited: the route checks the scope and audits what it serves. */
  async find(id: string): Promise<StoredReport | null> {
    const { rows } = await this.deps.db.query(`SELECT ${COLS} FROM reports WHERE id = $1`, [id]);
    return rows[0] ? toReport(rows[0]) : null;
  }

  async insert(r: Omit<StoredReport, 'createdAt'>): Promise<StoredReport> {
    const { rows } = await this.deps.db.query(
      `INSERT INTO reports (id, patient_id, file_name, content_type, size, storage_key, uploaded_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLS}`,
      [r.id, r.patientId, r.fileName, r.contentType, r.size, r.storageKey, r.uploadedBy],
    );
    return toReport(rows[0]!);
  }

  /** A patient's reports, newest first; the list is audited. The caller has checked the patient is visible. */
  async listOf(actor: Actor, patientId: string, q: { limit: number; offset: number }): Promise<Page<Report>> {
    const where = new Where().add('patient_id = ?', patientId);
    const result = await page(this.deps.db, { columns: COLS, from: 'reports', where, orderBy: 'created_at DESC, id', limit: q.limit, offset: q.offset }, (r) => publicReport(toReport(r)));
    this.deps.audit(auditEntry(actor, 'list', 'report', null, patientId, { count: result.items.length }));
    return result;
  }
}
