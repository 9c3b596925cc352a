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
export const paging = {
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
};
