// The resources served by the generic mechanism: what each one stores, accepts and who may do what.
import { z } from 'zod';
import type { ResourceSpec } from './resource.ts';
import { calendarDate, instant } from '../http/validate.ts';
import { SAME_PAIR, distinctPair, interactionFields } from './drug-interactions.ts';
import type { Patient } from '../../db/records.ts';
import { effectiveLimits } from '../pipeline/score/limits.ts';
import type { AlarmLimits } from '../domain/alarms.ts';
import { Errors, fail } from '../errors.ts';
import { rangeProblems } from './lab.ts';

const text = (max = 200) => z.string().trim().min(1, 'required').max(max);
const date = calendarDate;
const email = z.email('must be an e-mail address').max(254);
const phone = z.string().trim().regex(/^\+?[0-9 ()-]{5,20}$/, 'must be a phone number');
const address = z.strictObject({
  line1: text().optional(),
  line2: text().optional(),
  city: text(100).optional(),
  postcode: text(20).optional(),
  country: text(100).optional(),
});

/**
 * The update schema of a resource: every create field optional, without its default — a PUT that
 * names one field must not reset the others to their defaults — and at least one field given.
 */
function updateOf(base: Record<string, z.ZodType>, omit: string[] = []) {
  const fields = Object.fromEntries(
    Object.entries(base)
      .filter(([k]) => !omit.includes(k))
      .map(([k, v]) => [k, (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : v).optional()]),
  );
  return z.strictObject(fields).refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'nothing to update' });
}

// ---------------------------------------------------------------- patients

const patientBase = {
  name: text(),
  ward: text(64).nullable().optional(),
  bed: text(32).nullable().optional(),
  spo2Scale: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 or 2' }).optional(),
  dateOfBirth: date.nullable().optional(),
  sex: z.enum(['female', 'male', 'other', 'unknown']).nullable().optional(),
  phone: phone.nullable().optional(),
  email: email.nullable().optional(),
  address: address.optional(),
  allergies: z.array(text(100)).max(50).optional(),
};

export const patientSpec: ResourceSpec = {
  name: 'patients',
  title: 'patient',
  table: 'patients',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    name: { column: 'name', type: 'text' },
    ward: { column: 'ward', type: 'text' },
    bed: { column: 'bed', type: 'text' },
    spo2Scale: { column: 'spo2_scale', type: 'int' },
    alarmLimits: { column: 'alarm_limits', type: 'jsonb', readOnly: true },
    dateOfBirth: { column: 'date_of_birth', type: 'date' },
    sex: { column: 'sex', type: 'text' },
    phone: { column: 'phone', type: 'text' },
    email: { column: 'email', type: 'text' },
    address: { column: 'address', type: 'jsonb' },
    allergies: { column: 'allergies', type: 'jsonb' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(patientBase),
  update: updateOf(patientBase),
  filters: ['ward', 'bed', 'sex'],
  sortable: ['name', 'ward', 'bed', 'createdAt', 'dateOfBirth'],
  search: ['name', 'phone', 'email'],
  defaultSort: 'ward',
  tieBreak: ['bed', 'name'],
  permissions: { read: 'patients:read', create: 'patients:create', update: 'patients:update', archive: 'patients:archive' },
  patientWritable: ['phone', 'email', 'address'],
  patientField: 'id',
  clinical: true,
  // Need to know (the permission table's comments): a pharmacist checks who they hand medicines
  // to and what they must not give; a lab attaches reports to the right person. Neither sees
  // contact details, address, placement or alarm settings. A kiosk has no patients:read at all.
  views: {
    pharmacist: ['id', 'name', 'dateOfBirth', 'allergies'],
    lab: ['id', 'name', 'dateOfBirth'],
  },
  afterWrite: (row, ctx) => ctx.onPatientChanged(row as unknown as Patient),
  decorate: (row, ctx) => ({
    ...row,
    effectiveLimits: effectiveLimits(row.alarmLimits as AlarmLimits, row.spo2Scale === 2 ? 2 : 1),
    devices: ctx.registry.devicesOfPatient(row.id as string),
  }),
};

// ---------------------------------------------------------------- doctors

const doctorBase = {
  name: text(),
  specialities: z.array(text(100)).max(20).default([]),
  languages: z.array(text(50)).max(20).default([]),
  /** Consultation fee in minor units (cents). */
  fee: z.number().int('must be an integer number of cents').min(0).max(10_000_000).default(0),
  room: text(32).nullable().optional(),
  phone: phone.nullable().optional(),
  email: email.nullable().optional(),
  slotMinutes: z.number().int().min(5).max(120).default(15),
  userId: z.uuid('must be a UUID').nullable().optional(),
};

export const doctorSpec: ResourceSpec = {
  name: 'doctors',
  title: 'doctor',
  table: 'doctors',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    userId: { column: 'user_id', type: 'uuid' },
    name: { column: 'name', type: 'text' },
    specialities: { column: 'specialities', type: 'jsonb' },
    languages: { column: 'languages', type: 'jsonb' },
    fee: { column: 'fee', type: 'int' },
    room: { column: 'room', type: 'text' },
    phone: { column: 'phone', type: 'text' },
    email: { column: 'email', type: 'text' },
    slotMinutes: { column: 'slot_minutes', type: 'int' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(doctorBase),
  update: updateOf(doctorBase),
  filters: ['room'],
  sortable: ['name', 'fee', 'createdAt'],
  search: ['name', 'specialities', 'languages'],
  defaultSort: 'name',
  permissions: { read: 'doctors:read', create: 'doctors:manage', update: 'doctors:manage', archive: 'doctors:manage' },
  // A waiting-room display finds its doctor by room and shows the name: nothing else.
  views: { kiosk: ['id', 'name', 'room'] },
};

// ---------------------------------------------------------------- staff

const staffBase = {
  name: text(),
  role: z.enum(['nurse', 'front-desk', 'pharmacist', 'lab', 'admin', 'kiosk']),
  department: text(100).nullable().optional(),
  phone: phone.nullable().optional(),
  email: email.nullable().optional(),
  userId: z.uuid('must be a UUID').nullable().optional(),
};

export const staffSpec: ResourceSpec = {
  name: 'staff',
  title: 'staff member',
  table: 'staff',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    userId: { column: 'user_id', type: 'uuid' },
    name: { column: 'name', type: 'text' },
    role: { column: 'role', type: 'text' },
    department: { column: 'department', type: 'text' },
    phone: { column: 'phone', type: 'text' },
    email: { column: 'email', type: 'text' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(staffBase),
  update: updateOf(staffBase),
  filters: ['role', 'department'],
  sortable: ['name', 'role', 'createdAt'],
  search: ['name', 'email'],
  defaultSort: 'name',
  permissions: { read: 'staff:read', create: 'staff:manage', update: 'staff:manage', archive: 'staff:manage' },
};

// ---------------------------------------------------------------- medical history

const historyBase = {
  patientId: z.uuid('must be a UUID'),
  kind: z.enum(['visit', 'diagnosis', 'note', 'chronic-condition']),
  title: text(),
  details: z.string().trim().max(10_000).nullable().optional(),
  occurredAt: z.iso
    .datetime({ offset: true, error: 'must be ISO 8601 with a zone' })
    .refine((s) => instant.safeParse(s).success, { message: 'must be a time between 1900-01-01 and 2999-12-31' })
    .optional(),
};

export const historySpec: ResourceSpec = {
  name: 'history',
  title: 'medical history entry',
  table: 'medical_history',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    patientId: { column: 'patient_id', type: 'uuid' },
    kind: { column: 'kind', type: 'text' },
    title: { column: 'title', type: 'text' },
    details: { column: 'details', type: 'text' },
    occurredAt: { column: 'occurred_at', type: 'timestamptz' },
    authorId: { column: 'author_id', type: 'uuid', readOnly: true },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(historyBase),
  update: updateOf(historyBase, ['patientId']),
  filters: ['patientId', 'kind'],
  sortable: ['occurredAt', 'createdAt', 'kind'],
  search: ['title', 'details'],
  defaultSort: '-occurredAt',
  permissions: { read: 'history:read', create: 'history:write', update: 'history:write', archive: 'history:write' },
  stamp: (user) => ({ authorId: user.id }),
  patientField: 'patientId',
  clinical: true,
};

// ---------------------------------------------------------------- stock items (movements: stock.routes.ts)

const stockBase = {
  itemName: text(),
  unit: text(20),
  batch: text(50).nullable().optional(),
  expiryDate: date.nullable().optional(),
  reorderLevel: z.number().int().min(0).max(1_000_000).default(0),
  /** Unit price in minor units (cents). */
  unitPrice: z.number().int('must be an integer number of cents').min(0).max(100_000_000).default(0),
};

export const stockItemSpec: ResourceSpec = {
  name: 'stock',
  title: 'stock item',
  table: 'stock_items',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    itemName: { column: 'item_name', type: 'text' },
    unit: { column: 'unit', type: 'text' },
    batch: { column: 'batch', type: 'text' },
    expiryDate: { column: 'expiry_date', type: 'date' },
    quantity: { column: 'quantity', type: 'int', readOnly: true },
    reorderLevel: { column: 'reorder_level', type: 'int' },
    unitPrice: { column: 'unit_price', type: 'bigint' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(stockBase),
  update: updateOf(stockBase),
  filters: ['itemName', 'batch', 'unit'],
  sortable: ['itemName', 'expiryDate', 'quantity', 'createdAt'],
  search: ['itemName', 'batch'],
  defaultSort: 'itemName',
  permissions: { read: 'stock:read', create: 'stock:manage', update: 'stock:manage', archive: 'stock:manage' },
};

// ---------------------------------------------------------------- symptom map (suggestions: doctor-suggest.ts)

/** A symptom as it is stored and matched: trimmed, lower-case, single spaces. */
export const normaliseSymptom = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

const symptomMapBase = {
  symptom: text(100).transform(normaliseSymptom),
  /** Matched case-insensitively against the doctors' `specialities`. */
  speciality: text(100),
  /** How strongly the symptom points to the speciality: 1 (weakly) … 10. */
  weight: z.number().int('must be an integer').min(1).max(10).default(1),
};

export const symptomMapSpec: ResourceSpec = {
  name: 'symptom-map',
  title: 'symptom mapping',
  table: 'symptom_map',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    symptom: { column: 'symptom', type: 'text' },
    speciality: { column: 'speciality', type: 'text' },
    weight: { column: 'weight', type: 'int' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(symptomMapBase),
  update: updateOf(symptomMapBase),
  filters: ['symptom', 'speciality'],
  sortable: ['symptom', 'speciality', 'weight', 'createdAt'],
  search: ['symptom', 'speciality'],
  defaultSort: 'symptom',
  tieBreak: ['speciality'],
  permissions: { read: 'symptom-map:read', create: 'symptom-map:manage', update: 'symptom-map:manage', archive: 'symptom-map:manage' },
  constraints: {
    symptom_map_pair: () => fail('ERR_DUPLICATE', 'that symptom is already mapped to that speciality: change the weight of the existing mapping, or archive it first'),
  },
};

// ---------------------------------------------------------------- lab tests (orders: lab-orders.routes.ts)

/** A limit of a lab test's range: a finite number, or null for none. */
const limit = z.number({ error: 'must be a number' }).min(-1e9).max(1e9).nullable().optional();

const labTestBase = {
  /** LOINC where known (e.g. 2823-3, potassium in serum or plasma), else the lab's own code. */
  code: z
    .string()
    .trim()
    .min(1, 'required')
    .max(32)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be letters, digits and . _ : - (a LOINC code such as 2823-3, or a local code)'),
  name: text(),
  unit: z.string().trim().max(20).default(''),
  specimen: text(50),
  referenceLow: limit,
  referenceHigh: limit,
  criticalLow: limit,
  criticalHigh: limit,
};

/** The ranges' rules (lab.ts, rangeProblems) on what the body gives; the database checks the merged row. */
const ranges = (b: Record<string, unknown>, ctx: z.RefinementCtx) => {
  for (const p of rangeProblems(b)) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
};

/** The database's range rules (db/migrations/010_lab_orders.sql), by name: an update that breaks one with a stored value. */
const rangeRule = (message: string) => () => Errors.validation(`body: ${message} (with the test's stored values)`);

export const labTestSpec: ResourceSpec = {
  name: 'lab-tests',
  title: 'lab test',
  table: 'lab_tests',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    code: { column: 'code', type: 'text' },
    name: { column: 'name', type: 'text' },
    unit: { column: 'unit', type: 'text' },
    specimen: { column: 'specimen', type: 'text' },
    referenceLow: { column: 'reference_low', type: 'numeric' },
    referenceHigh: { column: 'reference_high', type: 'numeric' },
    criticalLow: { column: 'critical_low', type: 'numeric' },
    criticalHigh: { column: 'critical_high', type: 'numeric' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(labTestBase).superRefine(ranges),
  update: updateOf(labTestBase).superRefine(ranges),
  filters: ['code', 'specimen'],
  sortable: ['name', 'code', 'createdAt'],
  search: ['name', 'code'],
  defaultSort: 'name',
  permissions: { read: 'lab-tests:read', create: 'lab-tests:manage', update: 'lab-tests:manage', archive: 'lab-tests:manage' },
  constraints: {
    lab_tests_code: () => fail('ERR_DUPLICATE', 'a current lab test already has this code: archive it first or use another code'),
    lab_tests_reference_range: rangeRule('referenceLow must be at most referenceHigh'),
    lab_tests_critical_range: rangeRule('criticalLow must be below criticalHigh'),
    lab_tests_critical_low_outside: rangeRule('criticalLow must be below the reference range'),
    lab_tests_critical_high_outside: rangeRule('criticalHigh must be above the reference range'),
  },
};

// ---------------------------------------------------------------- drug interactions (check: medication-safety.ts)

// The interaction table prescribing is checked against: kept by pharmacists (and admins), read by
// those who prescribe, dispense or give medicines. Shipped empty; CSV import:
// drug-interactions.routes.ts. a and b are stored in matching form; a pair is unordered and live
// once (drug_interactions_pair, in either order).
export const drugInteractionSpec: ResourceSpec = {
  name: 'drug-interactions',
  title: 'drug interaction',
  table: 'drug_interactions',
  fields: {
    id: { column: 'id', type: 'uuid', readOnly: true },
    a: { column: 'a', type: 'text' },
    b: { column: 'b', type: 'text' },
    severity: { column: 'severity', type: 'text' },
    note: { column: 'note', type: 'text' },
    createdAt: { column: 'created_at', type: 'timestamptz', readOnly: true },
    archivedAt: { column: 'archived_at', type: 'timestamptz', readOnly: true },
  },
  create: z.strictObject(interactionFields).refine(distinctPair, { message: SAME_PAIR, path: ['b'] }),
  // A changed a or b is checked against the other by the database (drug_interactions_distinct).
  update: updateOf(interactionFields),
  filters: ['a', 'b', 'severity'],
  sortable: ['a', 'b', 'severity', 'createdAt'],
  search: ['a', 'b', 'note'],
  defaultSort: 'a',
  tieBreak: ['b'],
  permissions: { read: 'drug-interactions:read', create: 'drug-interactions:manage', update: 'drug-interactions:manage', archive: 'drug-interactions:manage' },
  constraints: {
    drug_interactions_pair: () => fail('ERR_DUPLICATE', 'that pair already has an interaction (in either order): change the existing one, or archive it first'),
    drug_interactions_distinct: () => Errors.validation(`body.b: ${SAME_PAIR}`),
  },
};
