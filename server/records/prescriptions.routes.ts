// Prescriptions: written by a doctor for a patient (optionally linked to the consultation's
// appointment) after the medication safety check (allergies, active prescriptions, the interaction
// table: medication-safety.ts), read by the care team and the patient, dispensed by a pharmacist. A dispense
// takes every stock-linked medicine from stock in one transaction — all or nothing — and counts
// as one fill: the first fill plus `refillsAllowed` refills. Storage and audit: prescriptions.store.ts.
import { z } from 'zod';
import type { AuditEntry } from '../../db/records.ts';
import { actorOf, type AppContext } from '../http/context.ts';
import { paging, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { PrescriptionStore } from './prescriptions.store.ts';
import { StockStore } from './stock.store.ts';

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
  /** Its ingredients and classes, for the safety check: "amoxicillin", "penicillin". */
  ingredients: z.array(text(100)).max(20).optional(),
  classes: z.array(text(100)).max(20).optional(),
});

export const MIN_OVERRIDE_REASON = 10;

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
    /** Prescribe over an allergy or a contraindicated interaction: why (audited, kept on the prescription). */
    override: z.strictObject({ reason: z.string().trim().min(MIN_OVERRIDE_REASON, `give a reason of at least ${MIN_OVERRIDE_REASON} characters`).max(1000) }).optional(),
  })
  .refine((b) => b.medicines.length + b.labTests.length > 0, { message: 'a prescription needs at least one medicine or lab test' });

const listQuery = z.strictObject({ patientId: uuid.optional(), doctorId: uuid.optional(), appointmentId: uuid.optional(), ...paging });
// No body (or JSON null) is an empty one.
const dispenseBody = z.preprocess((b) => b ?? undefined, z.strictObject({ reference: text(500).optional() }).optional());

export function prescriptionRoutes(ctx: AppContext): Route[] {
  const deps = { db: ctx.db.driver, audit: (e: AuditEntry) => ctx.audit(e) };
  const store = new PrescriptionStore(deps, new StockStore(deps));
  return [
    defineRoute({
      method: 'post',
      path: '/api/prescriptions',
      tag: 'prescriptions',
      summary: 'Write a prescription: medicines (dose, frequency, duration), lab tests, revisit, refills; checked against allergies, active prescriptions and drug interactions (409 ERR_ALLERGY / ERR_INTERACTION unless `override.reason`; lesser ones as `warnings`)',
      permission: 'prescriptions:create',
      body: createBody,
      status: 201,
      handler: ({ req, body }) => store.create(actorOf(req), body),
    }),
    defineRoute({
      method: 'get',
      path: '/api/prescriptions',
      tag: 'prescriptions',
      summary: 'List prescriptions, newest first (a patient sees only their own)',
      permission: 'prescriptions:read',
      query: listQuery,
      handler: ({ req, query }) => store.list(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: '/api/prescriptions/{id}',
      tag: 'prescriptions',
      summary: 'One prescription with its dispensings',
      permission: 'prescriptions:read',
      handler: ({ req, params }) => store.read(actorOf(req), params.id),
    }),
    defineRoute({
      method: 'post',
      path: '/api/prescriptions/{id}/dispense',
      tag: 'prescriptions',
      summary: 'Dispense one fill from stock (all or nothing; 409 naming the short item or when no fills remain)',
      permission: 'prescriptions:dispense',
      body: dispenseBody,
      handler: ({ req, params, body }) => store.dispense(actorOf(req), params.id, body?.reference),
    }),
  ];
}
