// Interaction table storage beyond the generic resource: the CSV import (one transaction, all or
// nothing, every bad line named) and the candidate rows for a prescription's check.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/driver.ts';
import { Errors } from '../errors.ts';
import { auditEntry, fromRow, refusal, type Actor, type RepoDeps } from './repository.ts';
import { drugInteractionSpec } from './specs.ts';
import { pairKey, type ImportRow, type LineError } from './drug-interactions.ts';
import type { Interaction } from './medication-safety.ts';

/** The refusal of an import lists at most this many problems (and says how many there were). */
const MAX_REPORTED = 1000;
const COLS = Object.values(drugInteractionSpec.fields)
  .map((f) => f.column)
  .join(', ');

export class InteractionStore {
  constructor(private readonly deps: RepoDeps) {}

  /**
   * Import checked rows, or nothing: the file's own problems (`errors`) and every pair already in
   * the table (in either order) are reported together, by line, as one 400; otherwise every row is
   * inserted in one statement of one transaction. A pair added by someone else meanwhile makes the
   * insert fail on drug_interactions_pair (409), and nothing is imported either.
   */
  async import(actor: Actor, rows: ImportRow[], errors: LineError[]): Promise<{ imported: number; items: Record<string, unknown>[] }> {
    const items = await this.deps.db.transaction(async (tx) => {
      const problems = [...errors];
      if (rows.length) {
        const terms = [...new Set(rows.flatMap((r) => [r.a, r.b]))];
        const { rows: live } = await tx.query<{ id: string; a: string; b: string }>(
          'SELECT id, a, b FROM drug_interactions WHERE archived_at IS NULL AND a = ANY($1::text[]) AND b = ANY($1::text[])',
          [terms],
        );
        const existing = new Map(live.map((r) => [pairKey(r.a, r.b), r.id]));
        for (const r of rows) {
          const id = existing.get(pairKey(r.a, r.b));
          if (id) problems.push({ line: r.line, message: `the pair ${r.a} + ${r.b} is already in the table (${id}): change it with PUT /api/drug-interactions/${id}, or archive it first` });
        }
      }
      if (problems.length) {
        problems.sort((p, q) => p.line - q.line);
        const shown = problems.slice(0, 10).map((p) => `line ${p.line}: ${p.message}`);
        const more = problems.length > 10 ? `; … ${problems.length - 10} more in details` : '';
        throw Errors.validation(`nothing imported, ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${shown.join('; ')}${more}`, problems.slice(0, MAX_REPORTED));
      }
      const ids = rows.map(() => randomUUID());
      const { rows: inserted } = await tx
        .query(
          `INSERT INTO drug_interactions (id, a, b, severity, note)
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]) RETURNING ${COLS}`,
          [ids, rows.map((r) => r.a), rows.map((r) => r.b), rows.map((r) => r.severity), rows.map((r) => r.note)],
        )
        .catch((e) => refusal(e, drugInteractionSpec.title, drugInteractionSpec.constraints));
      return inserted.map((r) => fromRow(drugInteractionSpec, r));
    });
    this.deps.audit(auditEntry(actor, 'import', drugInteractionSpec.title, null, null, { count: items.length, ids: items.map((i) => i.id) }));
    return { imported: items.length, items };
  }

  /**
   * The live rows whose a and b both occur, as whole phrases, in `text` (searchText, of every
   * medicine concerned): the only rows that can match. In the caller's transaction.
   */
  async candidates(db: Queryable, text: string): Promise<Interaction[]> {
    const { rows } = await db.query<Interaction>(
      `SELECT id, a, b, severity, note FROM drug_interactions
       WHERE archived_at IS NULL AND strpos($1, ' ' || a || ' ') > 0 AND strpos($1, ' ' || b || ' ') > 0`,
      [text],
    );
    return rows.map((r) => ({ id: r.id, a: r.a, b: r.b, severity: r.severity, note: r.note ?? null }));
  }
}
