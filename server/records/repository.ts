// One repository for every record type, in the manner of medplum's: a `ResourceSpec` (fields and
// their columns, zod schemas, filters, patient field) gives a `Repository<T>` that owns the SQL
// (parameterised, camelCase ⇄ snake_case), row mapping, paging with totals, filters, search,
// patient scope, archive (never erase), the audit entry of every operation, and the mapping of a
// database refusal — by constraint name — to a catalogue error. Per-feature stores (booking,
// billing, stock …) build on it and on db/rows.ts; routes only wire (route.ts).
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { DbError, type Driver, type Queryable } from '../../db/driver.ts';
import { Where, page, type Page } from '../../db/rows.ts';
import type { AuditEntry } from '../../db/records.ts';
import { AppError, Errors, fail } from '../errors.ts';
import type { Permission, Principal } from '../domain/roles.ts';
import type { AppContext } from '../http/context.ts';
import { visiblePatients, type Views } from './scope.ts';

export type ColumnType = 'text' | 'int' | 'bigint' | 'numeric' | 'bool' | 'date' | 'time' | 'timestamptz' | 'uuid' | 'jsonb';

export interface FieldSpec {
  column: string;
  type: ColumnType;
  /** Written by the server only (id, createdAt, archivedAt …). */
  readOnly?: boolean;
}

/** The fields the server owns on every record. */
export interface ServerFields {
  id: string;
  createdAt?: string;
  archivedAt?: string | null;
}

/** A record of a spec: what its create schema accepts, plus the server's fields. */
export type RecordOf<S extends ResourceSpec> = z.output<S['create']> & ServerFields;

export interface ResourceSpec<C extends z.ZodObject = z.ZodObject, U extends z.ZodObject = z.ZodObject> {
  /** URL segment and OpenAPI tag: 'doctors'. */
  name: string;
  /** Singular, for messages and the audit trail: 'doctor'. */
  title: string;
  table: string;
  fields: Record<string, FieldSpec>;
  create: C;
  update: U;
  /** Fields a list may be filtered on by equality (?field=value). */
  filters: string[];
  sortable: string[];
  /** Fields searched by `?q=` (case-insensitive substring). */
  search?: string[];
  defaultSort: string;
  permissions: { read: Permission; create: Permission | null; update: Permission; archive: Permission };
  /** The field naming the patient a row belongs to ('id' for patients themselves). */
  patientField?: string;
  /** Clinical data: every read is audited too (writes always are). */
  clinical?: boolean;
  afterWrite?(row: Record<string, unknown>, ctx: AppContext): void;
  /** Fields a patient account may change on its own records (contact details, not placement). */
  patientWritable?: string[];
  /** Fields the server fills in on create from who is asking (e.g. authorId). */
  stamp?(user: Principal): Record<string, unknown>;
  /** Further sort keys after the requested one (e.g. ward → bed → name). */
  tieBreak?: string[];
  /** Extra, derived fields for a single-record response. */
  decorate?(row: Record<string, unknown>, ctx: AppContext): Record<string, unknown>;
  /**
   * Need to know: per role, the only fields it sees (fieldsFor, scope.ts). Every response to that
   * role is cut down to them, and it may not filter, sort or search on any other.
   */
  views?: Views;
  /** This record type's own database constraints, by name, as catalogue errors. */
  constraints?: Record<string, (e: DbError) => AppError>;
}

/** Who asks: for the patient scope and the audit entry. */
export interface Actor {
  user: Principal;
  ip: string | null;
}

/** What a repository needs from the composition root. */
export interface RepoDeps {
  db: Driver;
  /** Queue an audit entry (written in order, durable, never blocks the caller). */
  audit(entry: AuditEntry): void;
}

/** The audit row of `action` by `actor` (no user: an unauthenticated request, known by its address). */
export function auditEntry(
  actor: { user?: Principal | null; ip: string | null } | null,
  action: string,
  resource: string,
  resourceId: string | null,
  patientId: string | null,
  details?: unknown,
): AuditEntry {
  return { actorId: actor?.user?.id ?? null, actorRole: actor?.user?.role ?? null, action, resource, resourceId, patientId, ip: actor?.ip ?? null, details };
}

// ---------------------------------------------------------------- constraints

/**
 * Database refusals by constraint name, as the condition they mean. Names come from the
 * migrations (db/migrations); PostgreSQL's default names (`users_email_key`) where none is given.
 */
const CONSTRAINTS: Record<string, (e: DbError) => AppError> = {
  appointments_slot: () => fail('ERR_SLOT_TAKEN', 'slot taken: the doctor already has an appointment at that time'),
  admissions_patient: () => fail('ERR_ALREADY_ADMITTED', 'the patient is already admitted: discharge first'),
  admissions_bed: () => fail('ERR_BED_OCCUPIED', 'that bed is occupied'),
  patients_ward_bed: () => fail('ERR_BED_OCCUPIED', 'another patient is in that bed on that ward'),
  stock_items_quantity_check: () => fail('ERR_STOCK_SHORT', 'not enough left in stock'),
};

/**
 * A database refusal as a catalogue error: by constraint name first (the spec's own, then the
 * shared table), then by SQLSTATE class (unique → ERR_DUPLICATE, foreign key and check →
 * ERR_VALIDATION). Anything else is rethrown as it is (a fault, logged with its stack).
 */
export function refusal(err: unknown, what: string, own?: Record<string, (e: DbError) => AppError>): never {
  if (err instanceof DbError) {
    const byName = err.constraint ? (own?.[err.constraint] ?? CONSTRAINTS[err.constraint]) : undefined;
    if (byName) throw byName(err);
    const detail = err.detail ? `: ${err.detail}` : '';
    if (err.code === '23505') throw fail('ERR_DUPLICATE', `${what} conflicts with an existing one${detail}`);
    if (err.code === '23503') throw Errors.validation(`${what} refers to something that does not exist${detail}`);
    if (err.code === '23514') throw Errors.validation(`${what} breaks a rule (${err.constraint ?? 'check'})${detail}`);
  }
  throw err;
}

// ---------------------------------------------------------------- rows

function toValue(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'jsonb') return JSON.stringify(v);
  if (type === 'timestamptz') return v instanceof Date ? v.toISOString() : v;
  return v;
}

/** A row of the spec's table as its record: the one mapping (feature stores selecting extra conditions use it too). */
export function fromRow(spec: ResourceSpec, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.fields)) {
    let v = row[f.column];
    if (v === undefined) continue;
    if (v !== null) {
      if (f.type === 'jsonb' && typeof v === 'string') v = JSON.parse(v);
      else if (f.type === 'timestamptz') v = new Date(v as string).toISOString();
      else if (f.type === 'date') v = String(v).slice(0, 10);
      else if (f.type === 'time') v = String(v).slice(0, 5);
      else if (f.type === 'bigint' || f.type === 'int' || f.type === 'numeric') v = Number(v);
    }
    out[name] = v;
  }
  return out;
}

export interface ListQuery {
  /** Equality filters by field name (already checked against the spec and the role's view). */
  filters: Record<string, unknown>;
  sort: string | null;
  desc: boolean;
  tieBreak?: string[];
  limit: number;
  offset: number;
  includeArchived: boolean;
  search?: string;
  searchIn?: string[];
  /** Fields the caller's role sees, recorded in the audit entry of a clinical read. */
  fieldsShown?: readonly string[] | null;
}

// ---------------------------------------------------------------- the repository

export class Repository<T extends Record<string, unknown> = Record<string, unknown>> {
  private readonly cols: string;

  constructor(
    readonly spec: ResourceSpec,
    private readonly deps: RepoDeps,
  ) {
    this.cols = Object.values(spec.fields).map((f) => f.column).join(', ');
  }

  private patientOf(row: Record<string, unknown>): string | null {
    return this.spec.patientField ? ((row[this.spec.patientField] as string | null) ?? null) : null;
  }

  /** null: no patient restriction (staff); otherwise the patients this account may see (scope.ts). */
  scope(user: Principal): Promise<string[] | null> {
    return visiblePatients(this.deps.db, user);
  }

  private audit(actor: Actor, action: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit(auditEntry(actor, action, this.spec.title, id, patientId, details));
  }

  /** The row by id, unscoped and unaudited: for the server's own decisions, never a response. */
  async find(id: string, db: Queryable = this.deps.db): Promise<T | null> {
    const { rows } = await db.query(`SELECT ${this.cols} FROM ${this.spec.table} WHERE id = $1`, [id]);
    return rows[0] ? (fromRow(this.spec, rows[0]) as T) : null;
  }

  /** The row for `actor`: 404 when missing or outside their patient scope; a clinical read is audited. */
  async read(actor: Actor, id: string, fieldsShown?: readonly string[] | null): Promise<T> {
    const row = await this.visible(actor, id);
    if (this.spec.clinical) this.audit(actor, 'read', id, this.patientOf(row), fieldsShown ? { fieldsShown } : undefined);
    return row;
  }

  /** The row if `actor` may see it, else the same 404 as a missing one. Not audited: the caller's next step is. */
  async visible(actor: Actor, id: string): Promise<T> {
    const row = await this.find(id);
    if (!row) throw Errors.notFound(this.spec.title, id);
    if (this.spec.patientField) {
      const scope = await this.scope(actor.user);
      const patientId = this.patientOf(row);
      if (scope && (!patientId || !scope.includes(patientId))) throw Errors.notFound(this.spec.title, id);
    }
    return row;
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<T>> {
    const { spec } = this;
    const where = new Where();
    for (const [name, value] of Object.entries(q.filters)) where.add(`${spec.fields[name]!.column} = ?`, value);
    if (!q.includeArchived && spec.fields.archivedAt) where.add('archived_at IS NULL');
    const searchIn = q.searchIn ?? spec.search ?? [];
    if (q.search && searchIn.length) {
      const like = where.param(`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.add(`(${searchIn.map((s) => `${spec.fields[s]!.column}::text ILIKE ${like}`).join(' OR ')})`);
    }
    const scope = spec.patientField ? await this.scope(actor.user) : null;
    if (scope) where.add(`${spec.fields[spec.patientField!]!.column} = ANY(?::uuid[])`, scope);
    const sortBy = q.sort === null ? '' : `${spec.fields[q.sort]!.column} ${q.desc ? 'DESC' : 'ASC'} NULLS LAST, `;
    const result = await page(
      this.deps.db,
      {
        columns: this.cols,
        from: spec.table,
        where,
        orderBy: `${sortBy}${(q.tieBreak ?? []).map((t) => `${spec.fields[t]!.column} NULLS LAST, `).join('')}id`,
        limit: q.limit,
        offset: q.offset,
      },
      (r) => fromRow(spec, r) as T,
    );
    if (spec.clinical) this.audit(actor, 'list', null, null, { count: result.items.length, filters: q.filters, ...(q.fieldsShown ? { fieldsShown: q.fieldsShown } : {}) });
    return result;
  }

  /** Insert a record (id made here); a patient account may only create its own patients' records. */
  async create(actor: Actor, body: Record<string, unknown>, db: Queryable = this.deps.db): Promise<T> {
    const { spec } = this;
    const scope = spec.patientField ? await this.scope(actor.user) : null;
    if (scope && !scope.includes(String(body[spec.patientField!] ?? ''))) throw Errors.forbidden(`a patient may only create their own ${spec.title} records`);
    const row: Record<string, unknown> = { id: randomUUID(), ...body };
    const names = Object.keys(row).filter((k) => spec.fields[k] && row[k] !== undefined);
    const { rows } = await db
      .query(
        `INSERT INTO ${spec.table} (${names.map((n) => spec.fields[n]!.column).join(', ')})
         VALUES (${names.map((n, i) => `$${i + 1}${spec.fields[n]!.type === 'jsonb' ? '::jsonb' : ''}`).join(', ')}) RETURNING ${this.cols}`,
        names.map((n) => toValue(spec.fields[n]!.type, row[n])),
      )
      .catch((e) => refusal(e, spec.title, spec.constraints));
    const created = fromRow(spec, rows[0]!) as T;
    this.audit(actor, 'create', created.id as string, this.patientOf(created));
    return created;
  }

  /** Change the writable fields of a live (not archived) record the actor may see. */
  async update(actor: Actor, id: string, patch: Record<string, unknown>, db: Queryable = this.deps.db): Promise<T> {
    const { spec } = this;
    await this.visible(actor, id);
    const names = Object.keys(patch).filter((k) => spec.fields[k] && !spec.fields[k]!.readOnly && patch[k] !== undefined);
    let row: T | null;
    if (names.length === 0) row = await this.find(id, db);
    else {
      const archived = spec.fields.archivedAt ? ' AND archived_at IS NULL' : '';
      const { rows } = await db
        .query(
          `UPDATE ${spec.table} SET ${names.map((n, i) => `${spec.fields[n]!.column} = $${i + 2}${spec.fields[n]!.type === 'jsonb' ? '::jsonb' : ''}`).join(', ')}
           WHERE id = $1${archived} RETURNING ${this.cols}`,
          [id, ...names.map((n) => toValue(spec.fields[n]!.type, patch[n]))],
        )
        .catch((e) => refusal(e, spec.title, spec.constraints));
      row = rows[0] ? (fromRow(spec, rows[0]) as T) : null;
    }
    if (!row) throw Errors.archived(spec.title, id);
    this.audit(actor, 'update', id, this.patientOf(row), { fields: Object.keys(patch) });
    return row;
  }

  /** Archive, never erase: history that refers to the row stays intact. */
  async archive(actor: Actor, id: string): Promise<T> {
    const { spec } = this;
    const { rows } = await this.deps.db.query(`UPDATE ${spec.table} SET archived_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING ${this.cols}`, [id]);
    if (!rows[0]) {
      const exists = await this.find(id);
      throw exists ? fail('ERR_ARCHIVED', `${spec.title} '${id}' is already archived`) : Errors.notFound(spec.title, id);
    }
    const row = fromRow(spec, rows[0]) as T;
    this.audit(actor, 'archive', id, this.patientOf(row));
    return row;
  }
}
