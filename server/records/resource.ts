// The generic routes of every record type: list (filter, sort, search, paging with totals), get,
// create, update and archive (never erase), declared once each (route.ts) over one Repository
// (repository.ts), which owns the SQL, the patient scope and the audit. Per-role field views
// (need to know) are applied here, at the edge. Per-entity code only where behaviour differs.
import type { Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../http/context.ts';
import { actorOf } from '../http/context.ts';
import { calendarDate } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { Errors } from '../errors.ts';
import { fieldsFor, hiddenField, project } from './scope.ts';
import { Repository, type ColumnType, type ResourceSpec } from './repository.ts';

export type { ResourceSpec } from './repository.ts';

const listBase = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
  includeArchived: z.stringbool().default(false),
  q: z.string().trim().min(1).max(100).optional(),
});

/** Query filters typed like their column: a malformed value is a 400, never a database error. */
function filterSchema(type: ColumnType): z.ZodType {
  switch (type) {
    case 'uuid':
      return z.uuid('must be a UUID');
    case 'int':
    case 'bigint':
      return z.coerce.number({ error: 'must be a number' }).int('must be an integer');
    case 'numeric':
      return z.coerce.number({ error: 'must be a number' });
    case 'bool':
      return z.stringbool();
    case 'date':
      return calendarDate;
    default:
      return z.string().min(1).max(200);
  }
}

export function resourceRoutes(spec: ResourceSpec, ctx: AppContext): Route[] {
  const repo = new Repository(spec, { db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const base = `/api/${spec.name}`;
  const sortValues = spec.sortable.flatMap((s) => [s, `-${s}`]) as [string, ...string[]];
  const listQuery = listBase
    .extend({
      sort: z.enum(sortValues).default(spec.defaultSort),
      ...Object.fromEntries(spec.filters.map((f) => [f, filterSchema(spec.fields[f]!.type).optional()])),
    })
    .strict();
  for (const [role, fields] of Object.entries(spec.views ?? {})) {
    const unknown = fields.filter((f) => !spec.fields[f]);
    if (unknown.length) throw new Error(`${spec.name}: the view of '${role}' names unknown fields ${unknown.join(', ')}`);
  }
  /** The response for this user: only the fields its role sees (need to know). */
  const present = (req: Request, row: Record<string, unknown>) => project(row, fieldsFor(spec, req.user!.role));

  const routes: Route[] = [
    defineRoute({
      method: 'get',
      path: base,
      tag: spec.name,
      summary: `List ${spec.name}`,
      permission: spec.permissions.read,
      query: listQuery,
      async handler({ req, user, query }) {
        const q = query as z.infer<typeof listQuery> & Record<string, unknown>;
        // A role that sees only some fields may not filter, sort or search on the others: the
        // answer would tell what it may not read (ward by ward, e-mail by e-mail).
        const fields = fieldsFor(spec, user.role);
        const sees = (f: string) => !fields || fields.includes(f);
        const refuse = (param: string) => hiddenField(spec.title, user.role, fields!, param);
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
        const page = await repo.list(actorOf(req), {
          filters,
          sort,
          desc: sort !== null && String(q.sort).startsWith('-'),
          tieBreak: spec.tieBreak?.filter(sees),
          limit: q.limit,
          offset: q.offset,
          includeArchived: q.includeArchived,
          search: q.q,
          searchIn,
          fieldsShown: fields,
        });
        return { ...page, items: page.items.map((row) => present(req, row)) };
      },
    }),
    defineRoute({
      method: 'get',
      path: `${base}/{id}`,
      tag: spec.name,
      summary: `Get one ${spec.title}`,
      permission: spec.permissions.read,
      async handler({ req, params }) {
        const row = await repo.read(actorOf(req), params.id, fieldsFor(spec, req.user!.role));
        return present(req, spec.decorate ? spec.decorate(row, ctx) : row);
      },
    }),
  ];
  const create = spec.permissions.create;
  if (create) {
    routes.push(
      defineRoute({
        method: 'post',
        path: base,
        tag: spec.name,
        summary: `Create a ${spec.title}`,
        permission: create,
        body: spec.create,
        status: 201,
        async handler({ req, user, body }) {
          const row = await repo.create(actorOf(req), { ...(body as Record<string, unknown>), ...(spec.stamp?.(user) ?? {}) });
          spec.afterWrite?.(row, ctx);
          return present(req, row);
        },
      }),
    );
  }
  routes.push(
    defineRoute({
      method: 'put',
      path: `${base}/{id}`,
      tag: spec.name,
      summary: `Update a ${spec.title}`,
      permission: spec.permissions.update,
      body: spec.update,
      async handler({ req, user, params, body }) {
        const patch = body as Record<string, unknown>;
        if (user.role === 'patient' && spec.patientWritable) {
          const refused = Object.keys(patch).filter((k) => patch[k] !== undefined && !spec.patientWritable!.includes(k));
          if (refused.length > 0) throw Errors.forbidden(`a patient may only change their own ${spec.patientWritable.join(', ')} (not ${refused.join(', ')})`);
        }
        const row = await repo.update(actorOf(req), params.id, patch);
        spec.afterWrite?.(row, ctx);
        return present(req, row);
      },
    }),
    defineRoute({
      method: 'delete',
      path: `${base}/{id}`,
      tag: spec.name,
      summary: `Archive a ${spec.title} (kept, not erased)`,
      permission: spec.permissions.archive,
      async handler({ req, params }) {
        const row = await repo.archive(actorOf(req), params.id);
        spec.afterWrite?.(row, ctx);
        return present(req, row);
      },
    }),
  );
  return routes;
}

