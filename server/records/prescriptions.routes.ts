// Prescriptions: written by a doctor for a patient (optionally linked to the consultation's
// appointment), read by the care team and the patient, dispensed by a pharmacist. A dispense
// takes every stock-linked medicine from stock in one transaction — all or nothing — and counts
// as one fill: the first fill plus `refillsAllowed` refills.
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam, paging, parse, uuid } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import { dbConflict } from './resource.ts';
import { assertVisible, patientScope } from './scope.ts';
import { moveStock } from './stock.routes.ts';

const text = (max = 200) => z.string().trim().min(1, 'required').max(max);

const medicine = z.strictObject({
  /** Set when the medicine is dispensed from the pharmacy's stock. */
  stockItemId: uuid.optional(),
  itemName: text(),
  dose: text(100),
  frequency: text(100),
  durationDays: z.number().int().min(1).max(3650),
  /** Units handed out per fill. */
  quantity: z.number().int().min(1).max(100_000),
});
type Medicine = z.infer<typeof medicine>;

const createBody = z
  .strictObject({
    patientId: uuid,
    /** Only an admin names the doctor; a doctor always prescribes as themself. */
    doctorId: uuid.optional(),
    appointmentId: uuid.optional(),
    medicines: z.array(medicine).max(50).default([]),
    labTests: z.array(z.strictObject({ name: text(), notes: text(1000).optional() })).max(50).default([]),
    revisitAfterDays: z.number().int().min(0).max(3650).optional(),
    remarks: z.string().trim().max(5000).optional(),
    refillsAllowed: z.number().int().min(0).max(12).default(0),
  })
  .refine((b) => b.medicines.length + b.labTests.length > 0, { message: 'a prescription needs at least one medicine or lab test' });

const listQuery = z.strictObject({ patientId: uuid.optional(), doctorId: uuid.optional(), appointmentId: uuid.optional(), ...paging });
const dispenseBody = z.strictObject({ reference: text(500).optional() });

const iso = (v: unknown) => new Date(v as string).toISOString();
const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

function toPrescription(r: Record<string, unknown>) {
  const refillsAllowed = Number(r.refills_allowed);
  const refillsUsed = Number(r.refills_used);
  return {
    id: r.id as string,
    patientId: r.patient_id as string,
    doctorId: r.doctor_id as string,
    appointmentId: (r.appointment_id as string | null) ?? null,
    medicines: json(r.medicines) as Medicine[],
    labTests: json(r.lab_tests) as { name: string; notes?: string }[],
    revisitAfterDays: r.revisit_after_days === null ? null : Number(r.revisit_after_days),
    remarks: (r.remarks as string | null) ?? null,
    refillsAllowed,
    /** Fills handed out so far (the first fill counts). */
    refillsUsed,
    fillsRemaining: refillsAllowed + 1 - refillsUsed,
    createdAt: iso(r.created_at),
  };
}

async function dispensingsOf(db: Queryable, prescriptionId: string) {
  const { rows } = await db.query(
    `SELECT d.*, s.item_name FROM dispensings d JOIN stock_items s ON s.id = d.item_id WHERE d.prescription_id = $1 ORDER BY d.fill_number, d.id`,
    [prescriptionId],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    itemId: r.item_id as string,
    itemName: r.item_name as string,
    quantity: Number(r.quantity),
    fillNumber: Number(r.fill_number),
    pharmacistId: (r.pharmacist_id as string | null) ?? null,
    at: iso(r.at),
  }));
}

/** The prescribing doctor: the caller's own doctor record; an admin must name one. */
async function prescriber(ctx: AppContext, req: Request, requested: string | undefined): Promise<string> {
  if (req.user!.role === 'admin') {
    if (!requested) throw Errors.validation('body.doctorId: required when an admin writes a prescription');
    const { rows } = await ctx.db.driver.query('SELECT 1 FROM doctors WHERE id = $1 AND archived_at IS NULL', [requested]);
    if (!rows[0]) throw Errors.validation(`body.doctorId: doctor '${requested}' not found`);
    return requested;
  }
  const { rows } = await ctx.db.driver.query<{ id: string }>('SELECT id FROM doctors WHERE user_id = $1 AND archived_at IS NULL', [req.user!.id]);
  if (!rows[0]) throw Errors.forbidden('your account is not linked to a doctor record');
  if (requested && requested !== rows[0].id) throw Errors.forbidden('a doctor may only prescribe as themself');
  return rows[0].id;
}

export function prescriptionRoutes(ctx: AppContext): Router {
  const r = Router();

  describeRoute({ method: 'post', path: '/api/prescriptions', tag: 'prescriptions', summary: 'Write a prescription: medicines (dose, frequency, duration), lab tests, revisit, refills', permission: 'prescriptions:create', body: createBody, status: 201 });
  r.post(
    '/',
    allow('prescriptions:create'),
    handler(async (req, res) => {
      const body = parse(createBody, req.body, 'body');
      const doctorId = await prescriber(ctx, req, body.doctorId);
      if (body.appointmentId) {
        const { rows } = await ctx.db.driver.query<{ patient_id: string }>('SELECT patient_id FROM appointments WHERE id = $1', [body.appointmentId]);
        if (!rows[0]) throw Errors.validation(`body.appointmentId: appointment '${body.appointmentId}' not found`);
        if (rows[0].patient_id !== body.patientId) throw Errors.validation('body.appointmentId: the appointment is for another patient');
      }
      const stockIds = [...new Set(body.medicines.flatMap((m) => (m.stockItemId ? [m.stockItemId] : [])))];
      if (stockIds.length) {
        const { rows } = await ctx.db.driver.query<{ id: string }>('SELECT id FROM stock_items WHERE id = ANY($1::uuid[])', [stockIds]);
        const missing = stockIds.filter((id) => !rows.some((row) => row.id === id));
        if (missing.length) throw Errors.validation(`body.medicines: stock item(s) not found: ${missing.join(', ')}`);
      }
      const { rows } = await ctx.db.driver
        .query(
          `INSERT INTO prescriptions (id, patient_id, doctor_id, appointment_id, medicines, lab_tests, revisit_after_days, remarks, refills_allowed)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9) RETURNING *`,
          [randomUUID(), body.patientId, doctorId, body.appointmentId ?? null, JSON.stringify(body.medicines), JSON.stringify(body.labTests), body.revisitAfterDays ?? null, body.remarks ?? null, body.refillsAllowed],
        )
        .catch((e) => dbConflict(e, 'prescription'));
      const p = toPrescription(rows[0]!);
      ctx.audit(auditOf(req, 'create', 'prescription', p.id, p.patientId, { medicines: p.medicines.length, labTests: p.labTests.length }));
      res.status(201).json(p);
    }),
  );

  describeRoute({ method: 'get', path: '/api/prescriptions', tag: 'prescriptions', summary: 'List prescriptions, newest first (a patient sees only their own)', permission: 'prescriptions:read', query: listQuery });
  r.get(
    '/',
    allow('prescriptions:read'),
    handler(async (req, res) => {
      const q = parse(listQuery, req.query, 'query');
      const scope = await patientScope(ctx, req.user!);
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        params.push(v);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (q.patientId) add('patient_id = ?', q.patientId);
      if (q.doctorId) add('doctor_id = ?', q.doctorId);
      if (q.appointmentId) add('appointment_id = ?', q.appointmentId);
      if (scope) add('patient_id = ANY(?::uuid[])', scope);
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { rows } = await ctx.db.driver.query(
        `SELECT *, count(*) OVER ()::int AS __total FROM prescriptions ${w} ORDER BY created_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, q.limit, q.offset],
      );
      ctx.audit(auditOf(req, 'list', 'prescription', null, q.patientId ?? null, { count: rows.length, doctorId: q.doctorId ?? null }));
      res.json({ items: rows.map(toPrescription), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: '/api/prescriptions/{id}', tag: 'prescriptions', summary: 'One prescription with its dispensings', permission: 'prescriptions:read' });
  r.get(
    '/:id',
    allow('prescriptions:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const { rows } = await ctx.db.driver.query('SELECT * FROM prescriptions WHERE id = $1', [id]);
      await assertVisible(ctx, req.user!, rows[0]?.patient_id as string | undefined, 'prescription', id);
      const p = toPrescription(rows[0]!);
      ctx.audit(auditOf(req, 'read', 'prescription', id, p.patientId));
      res.json({ ...p, dispensings: await dispensingsOf(ctx.db.driver, id) });
    }),
  );

  describeRoute({ method: 'post', path: '/api/prescriptions/{id}/dispense', tag: 'prescriptions', summary: 'Dispense one fill from stock (all or nothing; 409 naming the short item or when no fills remain)', permission: 'prescriptions:dispense', body: dispenseBody });
  r.post(
    '/:id/dispense',
    allow('prescriptions:dispense'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const body = parse(dispenseBody, req.body ?? {}, 'body');
      const out = await ctx.db.driver.transaction(async (tx) => {
        // Locked: two pharmacists filling the same prescription at once get fills 1 and 2, not 1 twice.
        const { rows } = await tx.query('SELECT * FROM prescriptions WHERE id = $1 FOR UPDATE', [id]);
        if (!rows[0]) throw Errors.notFound('prescription', id);
        const p = toPrescription(rows[0]);
        if (p.fillsRemaining <= 0) throw Errors.conflict(`no fills remain: ${p.refillsUsed} of ${p.refillsAllowed + 1} used`);
        // In item-id order: two fills touching the same items lock them in the same order (no deadlock).
        const lines = p.medicines.filter((m) => m.stockItemId).sort((a, b) => a.stockItemId!.localeCompare(b.stockItemId!));
        if (lines.length === 0) throw Errors.conflict('no medicine on this prescription is dispensed from stock');
        const fillNumber = p.refillsUsed + 1;
        const dispensed = [];
        for (const m of lines) {
          const { item } = await moveStock(tx, {
            itemId: m.stockItemId!,
            delta: -m.quantity,
            kind: 'dispense',
            reason: `prescription fill ${fillNumber}`,
            reference: body.reference ?? `prescription:${id}`,
            actorId: req.user!.id,
          });
          await tx.query('INSERT INTO dispensings (prescription_id, item_id, quantity, fill_number, pharmacist_id) VALUES ($1, $2, $3, $4, $5)', [id, item.id, m.quantity, fillNumber, req.user!.id]);
          dispensed.push({ itemId: item.id, itemName: item.itemName, quantity: m.quantity, left: item.quantity });
        }
        const updated = await tx.query('UPDATE prescriptions SET refills_used = refills_used + 1 WHERE id = $1 RETURNING *', [id]);
        return { prescription: toPrescription(updated.rows[0]!), fillNumber, dispensed };
      });
      ctx.audit(auditOf(req, 'dispense', 'prescription', id, out.prescription.patientId, { fillNumber: out.fillNumber, items: out.dispensed.map((d) => ({ itemId: d.itemId, quantity: d.quantity })) }));
      res.json(out);
    }),
  );
  return r;
}
