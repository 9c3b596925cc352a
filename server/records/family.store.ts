// The `patient_family` table: one-way links from a patient (whose account then sees the member's
// records, scope.ts) to a family member. Every statement of the family feature; the patients
// themselves are read through the patients Repository.
import type { Patient } from '../../db/records.ts';
import { Errors, fail } from '../errors.ts';
import { Repository, auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { patientSpec } from './specs.ts';

export interface FamilyLink {
  patientId: string;
  memberId: string;
  relation: string;
}

export class FamilyStore {
  private readonly patients: Repository<Patient & Record<string, unknown>>;

  constructor(private readonly deps: RepoDeps) {
    this.patients = new Repository<Patient & Record<string, unknown>>(patientSpec, deps);
  }

  /** A patient's links with the members' names; audited (names are clinical data). */
  async list(actor: Actor, patientId: string): Promise<(FamilyLink & { memberName: string })[]> {
    const { rows } = await this.deps.db.query<{ member_id: string; relation: string; name: string }>(
      `SELECT f.member_id, f.relation, p.name FROM patient_family f JOIN patients p ON p.id = f.member_id
       WHERE f.patient_id = $1 ORDER BY p.name`,
      [patientId],
    );
    this.deps.audit(auditEntry(actor, 'list', 'family link', patientId, patientId, { count: rows.length }));
    return rows.map((x) => ({ patientId, memberId: x.member_id, relation: x.relation, memberName: x.name }));
  }

  private async live(id: string): Promise<void> {
    const p = await this.patients.find(id);
    if (!p) throw Errors.notFound('patient', id);
    if (p.archivedAt) throw fail('ERR_ARCHIVED', `patient '${id}' is archived`);
  }

  /** Link two live patients; a link that exists already is ERR_DUPLICATE. */
  async link(l: FamilyLink): Promise<FamilyLink> {
    await this.live(l.patientId);
    await this.live(l.memberId);
    await this.deps.db
      .query('INSERT INTO patient_family (patient_id, member_id, relation) VALUES ($1, $2, $3)', [l.patientId, l.memberId, l.relation])
      .catch((e) => refusal(e, 'family link', { patient_family_pkey: () => fail('ERR_DUPLICATE', `patient '${l.memberId}' is already linked to patient '${l.patientId}'`) }));
    return l;
  }

  /** Remove a link; the removed link, or ERR_NOT_FOUND. */
  async unlink(patientId: string, memberId: string): Promise<FamilyLink> {
    const { rows } = await this.deps.db.query<{ relation: string }>('DELETE FROM patient_family WHERE patient_id = $1 AND member_id = $2 RETURNING relation', [patientId, memberId]);
    if (!rows[0]) throw Errors.notFound('family link', `${patientId}:${memberId}`);
    return { patientId, memberId, relation: rows[0].relation };
  }
}
