// Admissions: POST /api/admissions puts a patient in a ward bed, PUT /api/admissions/{id}/discharge
// frees it, GET /api/admissions lists them (history is kept: a discharge only closes the row).
// The database decides conflicts — one current occupant per bed, one current admission per patient
// (unique partial indexes, 003_records.sql) — so two desks admitting at once cannot both win.
// The patient's ward and bed follow the admission and the live dashboard is told (patients cache).
// A discharge leaves the patient's devices assigned: unassigning is an explicit act (PUT
// /api/devices/{id}), so a monitor is never silently detached from someone still wearing it.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam, paging, parse, uuid } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import { DbError, type Queryable } from '../../db/driver.ts';
import { getPatient } from '../../db/records.ts';
import { assertVisible, patientScope } from './scope.ts';

const text = (max: number) => z.string().trim().min(1, 'required').max(max);
const admitSchema = z.strictObject({ patientId: uuid, ward: text(64), bed: text(32) });
const listQuery = z.strictObject({
  ward: text(64).optional(),
  patientId: uuid.optional(),
  current: z.stringbool().optional(),
  ...paging,
});

export interface Admission {
  id: string;
  patientId: string;
  patientName: string;
  ward: string;
  bed: string;
  admittedAt: string;
  dischargedAt: string | null;
}

const cols = `a.id, a.patient_id, p.name AS patient_name, a.ward, a.bed, a.admitted_at, a.discharged_at`;
const toAdmission = (r: Record<string, unknown>): Admission => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  patientName: r.patient_name as string,
  ward: r.ward as string,
  bed: r.bed as string,
  admittedAt: new Date(r.admitted_at as string).toISOString(),
  dischargedAt: r.discharged_at ? new Date(r.discharged_at as string).toISOString() : null,
});

async function getAdmission(db: Queryable, id: string): Promise<Admission | null> {
  const { rows } = await db.query(`SELECT ${cols} FROM admissions a JOIN patients p ON p.id = a.patient_id WHERE a.id = $1`, [id]);
  return rows[0] ? toAdmission(rows[0]) : null;
}

/** Unique violations of the admission and bed indexes, as the conflict the user caused. */
function admissionConflict(err: unknown, ward: string, bed: string): never {
  if (err instanceof DbError && err.code === '23505') {
    if (err.detail?.includes('(patient_id)')) throw Errors.conflict('the patient is already admitted: discharge first');
    throw Errors.conflict(`bed ${bed} on ward ${ward} is occupied`);
  }
  throw err;
}

export function admissionRoutes(ctx: AppContext): Router {
  const r = Router();

  describeRoute({ method: 'get', path: '/api/admissions', tag: 'admissions', summary: 'List admissions (current=true: patients in a bed now)', permission: 'admissions:read', query: listQuery });
  r.get(
    '/',
    allow('admissions:read'),
    handler(async (req, res) => {
      const q = parse(listQuery, req.query, 'query');
      const scope = await patientScope(ctx, req.user!);
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => `$${params.push(v)}`;
      if (q.ward) where.push(`a.ward = ${p(q.ward)}`);
      if (q.patientId) where.push(`a.patient_id = ${p(q.patientId)}`);
      if (q.current === true) where.push('a.discharged_at IS NULL');
      if (q.current === false) where.push('a.discharged_at IS NOT NULL');
      if (scope) where.push(`a.patient_id = ANY(${p(scope)}::uuid[])`);
      const { rows } = await ctx.db.driver.query(
        `SELECT ${cols}, count(*) OVER ()::int AS __total FROM admissions a JOIN patients p ON p.id = a.patient_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY a.admitted_at DESC, a.id LIMIT ${p(q.limit)} OFFSET ${p(q.offset)}`,
        params,
      );
      ctx.audit(auditOf(req, 'list', 'admission', null, q.patientId ?? null, { ward: q.ward ?? null, current: q.current ?? null, count: rows.length }));
      res.json({ items: rows.map(toAdmission), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: '/api/admissions/{id}', tag: 'admissions', summary: 'One admission', permission: 'admissions:read' });
  r.get(
    '/:id',
    allow('admissions:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const found = await getAdmission(ctx.db.driver, id);
      await assertVisible(ctx, req.user!, found?.patientId, 'admission', id);
      const a = found!;
      ctx.audit(auditOf(req, 'read', 'admission', id, a.patientId));
      res.json(a);
    }),
  );

  describeRoute({ method: 'post', path: '/api/admissions', tag: 'admissions', summary: 'Admit a patient to a ward bed (409 when the bed is taken or the patient is already admitted)', permission: 'admissions:manage', body: admitSchema, status: 201 });
  r.post(
    '/',
    allow('admissions:manage'),
    handler(async (req, res) => {
      const body = parse(admitSchema, req.body, 'body');
      const { admission, patient } = await ctx.db.driver
        .transaction(async (tx) => {
          const before = await getPatient(tx, body.patientId);
          if (!before) throw Errors.notFound('patient', body.patientId);
          if (before.archivedAt) throw Errors.conflict(`patient '${body.patientId}' is archived`);
          const id = randomUUID();
          await tx.query('INSERT INTO admissions (id, patient_id, ward, bed) VALUES ($1, $2, $3, $4)', [id, body.patientId, body.ward, body.bed]);
          // patients_ward_bed also refuses a bed held by a patient placed without an admission.
          await tx.query('UPDATE patients SET ward = $2, bed = $3, updated_at = now() WHERE id = $1', [body.patientId, body.ward, body.bed]);
          return { admission: (await getAdmission(tx, id))!, patient: (await getPatient(tx, body.patientId))! };
        })
        .catch((e) => admissionConflict(e, body.ward, body.bed));
      ctx.onPatientChanged(patient);
      ctx.audit(auditOf(req, 'admit', 'admission', admission.id, admission.patientId, { ward: admission.ward, bed: admission.bed }));
      res.status(201).json(admission);
    }),
  );

  describeRoute({ method: 'put', path: '/api/admissions/{id}/discharge', tag: 'admissions', summary: 'Discharge: frees the bed; the patient record, history and devices stay', permission: 'admissions:manage' });
  r.put(
    '/:id/discharge',
    allow('admissions:manage'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const { admission, patient } = await ctx.db.driver.transaction(async (tx) => {
        const { rowCount } = await tx.query('UPDATE admissions SET discharged_at = now() WHERE id = $1 AND discharged_at IS NULL RETURNING id', [id]);
        const a = await getAdmission(tx, id);
        if (!a) throw Errors.notFound('admission', id);
        if (rowCount === 0) throw Errors.conflict(`admission '${id}' is already discharged`);
        // Only if the patient is still in this bed (a move through PUT /api/patients wins).
        await tx.query('UPDATE patients SET ward = NULL, bed = NULL, updated_at = now() WHERE id = $1 AND ward = $2 AND bed = $3', [a.patientId, a.ward, a.bed]);
        return { admission: a, patient: await getPatient(tx, a.patientId) };
      });
      if (patient) ctx.onPatientChanged(patient);
      ctx.audit(auditOf(req, 'discharge', 'admission', id, admission.patientId, { ward: admission.ward, bed: admission.bed }));
      res.json(admission);
    }),
  );
  return r;
}
