// Admissions: POST /api/admissions puts a patient in a ward bed, PUT /api/admissions/{id}/discharge
// frees it, GET /api/admissions lists them (history is kept: a discharge only closes the row).
// The database decides conflicts (admissions.store.ts), so two desks admitting at once cannot both
// win. The patient's ward and bed follow the admission and the live dashboard is told (patients
// cache). A discharge leaves the patient's devices assigned: unassigning is an explicit act (PUT
// /api/devices/{id}), so a monitor is never silently detached from someone still wearing it.
import { z } from 'zod';
import { type AppContext, actorOf } from '../http/context.ts';
import { paging, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { AdmissionStore, type Admission } from './admissions.store.ts';

const text = (max: number) => z.string().trim().min(1, 'required').max(max);
const admitSchema = z.strictObject({ patientId: uuid, ward: text(64), bed: text(32) });
const listQuery = z.strictObject({
  ward: text(64).optional(),
  patientId: uuid.optional(),
  current: z.stringbool().optional(),
  ...paging,
});
const placement = (a: Admission) => ({ ward: a.ward, bed: a.bed });

export function admissionRoutes(ctx: AppContext): Route[] {
  const tag = 'admissions';
  const store = new AdmissionStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  return [
    defineRoute({
      method: 'get',
      path: '/api/admissions',
      tag,
      summary: 'List admissions (current=true: patients in a bed now)',
      permission: 'admissions:read',
      query: listQuery,
      handler: ({ req, query }) => store.list(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: '/api/admissions/{id}',
      tag,
      summary: 'One admission',
      permission: 'admissions:read',
      audit: { action: 'read', resource: 'admission' },
      handler: ({ req, params }) => store.visible(actorOf(req), params.id),
    }),
    defineRoute({
      method: 'post',
      path: '/api/admissions',
      tag,
      summary: 'Admit a patient to a ward bed (409 when the bed is taken or the patient is already admitted)',
      permission: 'admissions:manage',
      body: admitSchema,
      status: 201,
      audit: { action: 'admit', resource: 'admission', details: placement },
      async handler({ body }) {
        const { admission, patient } = await store.admit(body);
        ctx.onPatientChanged(patient);
        return admission;
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/admissions/{id}/discharge',
      tag,
      summary: 'Discharge: frees the bed; the patient record, history and devices stay',
      permission: 'admissions:manage',
      audit: { action: 'discharge', resource: 'admission', details: placement },
      async handler({ params }) {
        const { admission, patient } = await store.discharge(params.id);
        if (patient) ctx.onPatientChanged(patient);
        return admission;
      },
    }),
  ];
}
