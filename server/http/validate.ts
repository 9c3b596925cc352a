// Edge validation: zod schemas in, typed values out, or ERR_VALIDATION with a precise message
// naming each offending field ("body.ward: required").
import { z } from 'zod';
import { Errors } from '../errors.ts';

export function parse<S extends z.ZodType>(schema: S, data: unknown, where: 'body' | 'query' | 'params' | 'message'): z.infer<S> {
  // Before the schema: a NUL character cannot be stored in a PostgreSQL text column (it would be
  // a database error, a 500), and no field of ours has a use for one. Found anywhere, named.
  const nul = findNul(data, [where]);
  if (nul) throw Errors.validation(`${nul}: must not contain NUL (\\u0000) characters`, [{ path: nul, message: 'must not contain NUL (\\u0000) characters' }]);
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const path = [where, ...i.path.map(String)].join('.');
    return `${path}: ${i.message}`;
  });
  throw Errors.validation(problems.join('; '), r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })));
}

/** The path of the first string (value or key) holding a NUL character, or null. */
export function findNul(value: unknown, path: string[], depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\0') ? path.join('.') : null;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes('\0')) return [...path, JSON.stringify(k)].join('.');
    const found = findNul(v, [...path, k], depth + 1);
    if (found) return found;
  }
  return null;
}

export const uuid = z.uuid('must be a UUID');

// Dates and instants are held to years the database and the calendar arithmetic agree on:
// PostgreSQL has no year 0 ('0000-01-01' is out of range) and a date near 9999-12-31 plus days
// leaves the four-digit years that ISO 8601 strings (and the zod checks) assume.
export const MIN_YEAR = 1900;
export const MAX_YEAR = 2999;
const yearOk = (y: number) => y >= MIN_YEAR && y <= MAX_YEAR;
const RANGE = `between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`;

/** A calendar date YYYY-MM-DD (a real day of a real month), in the supported years. */
export const calendarDate = z.iso
  .date('must be a date YYYY-MM-DD')
  .refine((s) => yearOk(Number(s.slice(0, 4))), { message: `must be a date ${RANGE}` });

/** A point in time in a query: epoch milliseconds, or ISO 8601 with a zone (URL-encode '+' as %2B). */
export const instant = z.string().transform((s, ctx) => {
  const ms = /^\d{11,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `must be epoch milliseconds or ISO 8601 with a zone, got ${JSON.stringify(s.slice(0, 40))}` });
    return z.NEVER;
  }
  if (!yearOk(new Date(ms).getUTCFullYear())) {
    ctx.addIssue({ code: 'custom', message: `must be a time ${RANGE}, got ${JSON.stringify(s.slice(0, 40))}` });
    return z.NEVER;
  }
  return new Date(ms);
});
export const paging = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
};
