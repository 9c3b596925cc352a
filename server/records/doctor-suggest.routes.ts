// GET /api/doctors/suggest?symptoms=chest pain,breathlessness: the specialities the hospital's
// symptom map (/api/symptom-map, a generic resource kept by admins) points to, ranked, each with
// its doctors and their next free slots. Unknown symptoms are reported back, not refused.
// Parsing and ranking: doctor-suggest.ts; storage: doctor-suggest.store.ts.
import { z } from 'zod';
import type { AppContext } from '../http/context.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { appointmentStore } from './appointments.routes.ts';
import { MAX_SYMPTOMS, parseSymptoms } from './doctor-suggest.ts';
import { SuggestStore } from './doctor-suggest.store.ts';

const suggestQuery = z.strictObject({
  symptoms: z
    // `?symptoms=a&symptoms=b` is read as `a,b`.
    .union([z.string(), z.array(z.string())], { error: `required: 1–${MAX_SYMPTOMS} symptoms, comma-separated (symptoms=chest pain,cough)` })
    .transform((v, ctx) => {
      const { symptoms, problems } = parseSymptoms(Array.isArray(v) ? v.join(',') : v);
      for (const message of problems) ctx.addIssue({ code: 'custom', message });
      return problems.length ? z.NEVER : symptoms;
    }),
  slots: z.coerce.number().int().min(1).max(10).default(3),
  days: z.coerce.number().int().min(1).max(90).default(14),
  doctors: z.coerce.number().int().min(1).max(20).default(5),
});

export function suggestRoutes(ctx: AppContext): Route[] {
  const store = new SuggestStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) }, appointmentStore(ctx));
  return [
    defineRoute({
      method: 'get',
      path: '/api/doctors/suggest',
      tag: 'doctors',
      summary: 'Specialities for symptoms, ranked by the symptom map, each with its doctors and their next free slots; unknown symptoms listed in `unmatched`',
      permission: 'doctors:suggest',
      query: suggestQuery,
      handler: ({ query }) => store.suggest(query),
    }),
  ];
}
