// Edge validation: zod schemas in, typed values out, or ERR_VALIDATION with a precise message
// naming each offending field ("body.ward: required").
import { z } from 'zod';
import { Errors } from '../errors.ts';

export function parse<S extends z.ZodType>(schema: S, data: unknown, where: 'body' | 'query' | 'params' | 'message'): z.infer<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const path = [where, ...i.path.map(String)].join('.');
    return `${path}: ${i.message}`;
  });
  throw Errors.validation(problems.join('; '), r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })));
}

export const uuid = z.uuid('must be a UUID');

/** A UUID path parameter (`id` unless named otherwise), or ERR_VALIDATION naming it. */
export function idParam(value: unknown, name = 'id'): string {
  return parse(z.strictObject({ [name]: uuid }), { [name]: value }, 'params')[name] as string;
}

/** A point in time in a query: epoch milliseconds, or ISO 8601 with a zone (URL-encode '+' as %2B). */
export const instant = z.string().transform((s, ctx) => {
  const ms = /^\d{11,15}$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(s) ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `must be epoch milliseconds or ISO 8601 with a zone, got ${JSON.stringify(s.slice(0, 40))}` });
    return z.NEVER;
  }
  return new Date(ms);
});
export const paging = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
};
