// One generic resource mechanism: a spec (fields, schemas, filters, permissions) gives the SQL
// (parameterised, camelCase ⇄ snake_case), the routes (list with filter/sort/paging, get, create,
// update, archive — never erase), the patient scoping, the audit and the OpenAPI entries.
// Per-entity code only where behaviour differs (booking, billing, stock: their own modules).
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { DbError } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { calendarDate, idParam, parse } from '../http/validate.ts';
import { Errors } from '../errors.ts';
import type { Permission } from '../domain/roles.ts';
import { describeRoute } from '../http/openapi.ts';
import { assertVisible, fieldsFor, hiddenField, patientScope, project, type Views } from './scope.ts';
import type { Principal } from '../domain/roles.ts';

export type ColumnType = 'text' | 'int' | 'bigint' | 'bool' | 'date' | 'time' | 'timestamptz' | 'uuid' | 'jsonb';

export interface FieldSpec {
  column: string;
  type: ColumnType;
  /** Written by the server only (id, createdAt, archivedAt …). */
  readOnly?: boolean;
}

export interface ResourceSpec {
  /** URL segment and OpenAPI tag: 'doctors'. */
  name: string;
  /** Singular, for messages: 'doctor'. */
  title: string;
  table: string;
  fields: Record<string, FieldSpec>;
  create: z.ZodObject;
  update: z.ZodObject;
  /** Fields a list may be filtered on by equality (?field=value). */
  filters: string[];
  sortable: string[];
  /** Fields searched by `?q=` (case-insensitive substring). */
  search?: string[];
  defaultSort: string;
  permissions: { read: Permission; create: Permission | null; update: Permission; archive: Permission };
  /** The field naming the patient a row belongs to ('id' for patients themselves). */
  patientField?: string;
  /** Clinical data: every read is audited. */
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
}

const listBase = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  includeArchived: z.stringbool().default(false),
  q: z.string().trim().min(1).max(100).optional(),
});

function toValue(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'jsonb':
      return JSON.stringify(v);
    case 'timestamptz':
      return v instanceof Date ? v.toISOString() : v;
    default:
      return v;
  }
}

function fromRow(spec: ResourceSpec, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.fields)) {
    let v = row[f.column];
    if (v === undefined) continue;
    if (v !== null) {
      if (f.type === 'jsonb' && typeof v === 'string') v = JSON.parse(v);
      else if (f.type === 'timestamptz') v = new Date(v as string).toISOString();
      else if (f.type === 'date') v = v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
      else if (f.type === 'time') v = String(v).slice(0, 5);
      else if (f.type === 'bigint' || f.type === 'int') v = Number(v);
    }
    out[name] = v;
  }
  return out;
}

export function resourceStore(spec: ResourceSpec) {
  const cols = Object.values(spec.fields).map((f) => f.column).join(', ');
  const cast = (f: FieldSpec) => (f.type === 'jsonb' ? '::jsonb' : '');
  return {
    async get(db: Queryable, id: string): Promise<Record<string, unknown> | null> {
      const { rows } = await db.query(`SELECT ${cols} FROM ${spec.table} WHERE id = $1`, [id]);
      return rows[0] ? fromRow(spec, rows[0]) : null;
    },

    async list(
      db: Queryable,
      q: { tieBreak?: string[]; filters: Record<string, unknown>; sort: string | null; desc: boolean; limit: number; offset: number; includeArchived: boolean; search?: string; searchIn?: string[]; patientIds?: string[] },
    ): Promise<{ items: Record<string, unknown>[]; total: number }> {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      for (const [name, value] of Object.entries(q.filters)) {
        const f = spec.fields[name]!;
        where.push(`${f.column} = ${p(value)}`);
      }
      if (!q.includeArchived && spec.fields.archivedAt) where.push('archived_at IS NULL');
      const searchIn = q.searchIn ?? spec.search ?? [];
      if (q.search && searchIn.length) {
        const like = p(`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where.push(`(${searchIn.map((s) => `${spec.fields[s]!.column}::text ILIKE ${like}`).join(' OR ')})`);
      }
      if (q.patientIds) where.push(`${spec.fields[spec.patientField!]!.column} = ANY(${p(q.patientIds)}::uuid[])`);
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const sortBy = q.sort === null ? '' : `${spec.fields[q.sort]!.column} ${q.desc ? 'DESC' : 'ASC'} NULLS LAST, `;
      const { rows } = await db.query(
        `SELECT ${cols}, count(*) OVER ()::int AS __total FROM ${spec.table} ${w}
         ORDER BY ${sortBy}${(q.tieBreak ?? []).map((t) => `${spec.fields[t]!.column} NULLS LAST, `).join('')}id
         LIMIT ${p(q.limit)} OFFSET ${p(q.offset)}`,
        params,
      );
      return { items: rows.map((r) => fromRow(spec, r)), total: Number(rows[0]?.__total ?? 0) };
    },

    async insert(db: Queryable, body: Record<string, unknown>): Promise<Record<string, unknown>> {
      const row: Record<string, unknown> = { id: randomUUID(), ...body };
      const names = Object.keys(row).filter((k) => spec.fields[k] && row[k] !== undefined);
      const { rows } = await db.query(
        `INSERT INTO ${spec.table} (${names.map((n) => spec.fields[n]!.column).join(', ')})
         VALUES (${names.map((n, i) => `$${i + 1}${cast(spec.fields[n]!)}`).join(', ')}) RETURNING ${cols}`,
        names.map((n) => toValue(spec.fields[n]!.type, row[n])),
      );
      return fromRow(spec, rows[0]!);
    },

    async update(db: Queryable, id: string, patch: Record<string, unknown>): Promise<Record<string, unknown> | null> {
      const names = Object.keys(patch).filter((k) => spec.fields[k] && !spec.fields[k]!.readOnly && patch[k] !== undefined);
      if (names.length === 0) return this.get(db, id);
      const archived = spec.fields.archivedAt ? ' AND archived_at IS NULL' : '';
      const { rows } = await db.query(
        `UPDATE ${spec.table} SET ${names.map((n, i) => `${spec.fields[n]!.column} = $${i + 2}${cast(spec.fields[n]!)}`).join(', ')}
         WHERE id = $1${archived} RETURNING ${cols}`,
        [id, ...names.map((n) => toValue(spec.fields[n]!.type, patch[n]))],
      );
      return rows[0] ? fromRow(spec, rows[0]) : null;
    },

    /** Archive, never erase: history that refers to the row stays intact. */
    async archive(db: Queryable, id: string): Promise<Record<string, unknown> | null> {
      const { rows } = await db.query(`UPDATE ${spec.table} SET archived_at = now() WHERE id = $1 AND archived_at IS NULL RETURNING ${cols}`, [id]);
      return rows[0] ? fromRow(spec, rows[0]) : null;
    },
  };
}

/** Map a database refusal to a precise client error. */
export function dbConflict(err: unknown, what: string): never {
  if (err instanceof DbError) {
    if (err.code === '23505') throw Errors.conflict(`${what} conflicts with an existing one${err.detail ? `: ${err.detail}` : ''}`);
    if (err.code === '23503') throw Errors.validation(`${what} refers to something that does not exist${err.detail ? `: ${err.detail}` : ''}`);
    if (err.code === '23514') throw Errors.validation(`${what} breaks a rule: ${err.message}`);
  }
  throw err;
}

/** Query filters typed like their column: a malformed value is a 400, never a database error. */
function filterSchema(type: ColumnType): z.ZodType {
  switch (type) {
    case 'uuid':
      return z.uuid('must be a UUID');
    case 'int':
    case 'bigint':
      return z.coerce.number({ error: 'must be a number' }).int('must be an integer');
    case 'bool':
      return z.stringbool();
    case 'date':
      return calendarDate;
    default:
      return z.string().min(1).max(200);
  }
}

export function resourceRoutes(spec: ResourceSpec, ctx: AppContext): Router {
  const r = Router();
  const store = resourceStore(spec);
  const base = `/api/${spec.name}`;
  const sortValues = spec.sortable.flatMap((s) => [s, `-${s}`]) as [string, ...string[]];
  const listQuery = listBase.extend({
    sort: z.enum(sortValues).default(spec.defaultSort),
    ...Object.fromEntries(spec.filters.map((f) => [f, filterSchema(spec.fields[f]!.type).optional()])),
  }).strict();
  const patientOf = (row: Record<string, unknown>) => (spec.patientField ? (row[spec.patientField] as string | null) : null);
  for (const [role, fields] of Object.entries(spec.views ?? {})) {
    const unknown = fields.filter((f) => !spec.fields[f]);
    if (unknown.length) throw new Error(`${spec.name}: the view of '${role}' names unknown fields ${unknown.join(', ')}`);
  }
  /** The response for this user: only the fields its role sees (need to know). */
  const present = (req: Request, row: Record<string, unknown>) => project(row, fieldsFor(spec, req.user!.role));
  /** The row exists and, for patient records, this user may see it; else 404 as if missing. */
  const visibleRow = async (req: Request, row: Record<string, unknown> | null, id: string): Promise<Record<string, unknown>> => {
    if (!row) throw Errors.notFound(spec.title, id);
    if (spec.patientField) await assertVisible(ctx, req.user!, patientOf(row), spec.title, id);
    return row;
  };

  describeRoute({ method: 'get', path: base, tag: spec.name, summary: `List ${spec.name}`, permission: spec.permissions.read, query: listQuery });
  r.get(
    '/',
    allow(spec.permissions.read),
    handler(async (req, res) => {
      const q = parse(listQuery, req.query, 'query') as z.infer<typeof listQuery> & Record<string, unknown>;
      // A role that sees only some fields may not filter, sort or search on the others: the
      // answer would tell what it may not read (ward by ward, e-mail by e-mail).
      const fields = fieldsFor(spec, req.user!.role);
      const sees = (f: string) => !fields || fields.includes(f);
      const refuse = (param: string) => hiddenField(spec.title, req.user!.role, fields!, param);
      const filters: Record<string, unknown> = {};
      for (const f of spec.filters) {
        if (q[f] === undefined) continue;
        if (!sees(f)) throw refuse(`query.${f}`);
        filters[f] = q[f];
      }
      let sort: string | null = String(q.sort).replace(/^-/, '');
      if (!sees(sort)) {
        if (req.query.sort !== undefined) throw refuse(`query.sort=${String(q.sort)}`);
        sort = spec.sortable.find(sees) ?? null;
      }
      if (q.includeArchived && spec.fields.archivedAt && !sees('archivedAt')) throw refuse('query.includeArchived');
      const searchIn = (spec.search ?? []).filter(sees);
      if (q.q !== undefined && searchIn.length === 0) throw refuse('query.q');
      const scope = spec.patientField ? await patientScope(ctx, req.user!) : null;
      const page = await store.list(ctx.db.driver, {
        filters,
        sort,
        desc: sort !== null && String(q.sort).startsWith('-'),
        tieBreak: spec.tieBreak?.filter(sees),
        limit: q.limit,
        offset: q.offset,
        includeArchived: q.includeArchived,
        search: q.q,
        searchIn,
        patientIds: scope ?? undefined,
      });
      if (spec.clinical) ctx.audit(auditOf(req, 'list', spec.title, null, null, { count: page.items.length, filters, ...(fields ? { fieldsShown: fields } : {}) }));
      res.json({ ...page, items: page.items.map((row) => present(req, row)), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: `${base}/{id}`, tag: spec.name, summary: `Get one ${spec.title}`, permission: spec.permissions.read });
  r.get(
    '/:id',
    allow(spec.permissions.read),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const row = await visibleRow(req, await store.get(ctx.db.driver, id), id);
      const fields = fieldsFor(spec, req.user!.role);
      if (spec.clinical) ctx.audit(auditOf(req, 'read', spec.title, id, patientOf(row), fields ? { fieldsShown: fields } : undefined));
      res.json(present(req, spec.decorate ? spec.decorate(row, ctx) : row));
    }),
  );

  if (spec.permissions.create) {
    describeRoute({ method: 'post', path: base, tag: spec.name, summary: `Create a ${spec.title}`, permission: spec.permissions.create, body: spec.create, status: 201 });
    r.post(
      '/',
      allow(spec.permissions.create),
      handler(async (req, res) => {
        const body = { ...(parse(spec.create, req.body, 'body') as Record<string, unknown>), ...(spec.stamp?.(req.user!) ?? {}) };
        const scope = spec.patientField ? await patientScope(ctx, req.user!) : null;
        if (scope && !scope.includes(String(body[spec.patientField!] ?? ''))) throw Errors.forbidden(`a patient may only create their own ${spec.title} records`);
        const row = await store.insert(ctx.db.driver, body).catch((e) => dbConflict(e, spec.title));
        spec.afterWrite?.(row, ctx);
        ctx.audit(auditOf(req, 'create', spec.title, row.id as string, patientOf(row)));
        res.status(201).json(present(req, row));
      }),
    );
  }

  describeRoute({ method: 'put', path: `${base}/{id}`, tag: spec.name, summary: `Update a ${spec.title}`, permission: spec.permissions.update, body: spec.update });
  r.put(
    '/:id',
    allow(spec.permissions.update),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const patch = parse(spec.update, req.body, 'body') as Record<string, unknown>;
      if (req.user!.role === 'patient' && spec.patientWritable) {
        const refused = Object.keys(patch).filter((k) => patch[k] !== undefined && !spec.patientWritable!.includes(k));
        if (refused.length > 0) throw Errors.forbidden(`a patient may only change their own ${spec.patientWritable.join(', ')} (not ${refused.join(', ')})`);
      }
      await visibleRow(req, await store.get(ctx.db.driver, id), id);
      const row = await store.update(ctx.db.driver, id, patch).catch((e) => dbConflict(e, spec.title));
      if (!row) throw Errors.conflict(`${spec.title} '${id}' is archived`);
      spec.afterWrite?.(row, ctx);
      ctx.audit(auditOf(req, 'update', spec.title, id, patientOf(row), { fields: Object.keys(patch) }));
      res.json(present(req, row));
    }),
  );

  describeRoute({ method: 'delete', path: `${base}/{id}`, tag: spec.name, summary: `Archive a ${spec.title} (kept, not erased)`, permission: spec.permissions.archive });
  r.delete(
    '/:id',
    allow(spec.permissions.archive),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const row = await store.archive(ctx.db.driver, id);
      if (!row) {
        const exists = await store.get(ctx.db.driver, id);
        throw exists ? Errors.conflict(`${spec.title} '${id}' is already archived`) : Errors.notFound(spec.title, id);
      }
      spec.afterWrite?.(row, ctx);
      ctx.audit(auditOf(req, 'archive', spec.title, id, patientOf(row)));
      res.json(present(req, row));
    }),
  );
  return r;
}
