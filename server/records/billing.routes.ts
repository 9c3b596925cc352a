// Billing: generate a bill (prices from doctors' fees, stock unit prices or given explicitly),
// list a patient's bills, take payments at the desk (idempotent, partial, never above the total)
// and list transactions. The arithmetic is billing.ts; storage and audit billing.store.ts; this
// file only declares.
import { z } from 'zod';
import { actorOf, type AppContext } from '../http/context.ts';
import { instant, paging, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { Errors } from '../errors.ts';
import { BillingStore } from './billing.store.ts';
import { paymentOrderRoutes } from './payments.routes.ts';

const KINDS = ['consultation', 'lab', 'medicine', 'other'] as const;
const METHODS = ['cash', 'card', 'online'] as const;
const text = z.string().trim().min(1, 'required').max(200);
const quantity = z.number().int('must be an integer').min(1).max(10_000);
/** Minor units (cents). */
const money = z.number().int('must be an integer number of minor units').min(0).max(100_000_000);

const explicitItem = z.strictObject({ kind: z.enum(KINDS), description: text, quantity, unitPrice: money });
/** Priced at the doctor's fee; without doctorId, the doctor of the bill's appointment. */
const consultationItem = z.strictObject({ kind: z.literal('consultation'), doctorId: uuid.optional(), quantity: quantity.default(1), description: text.optional() });
/** Priced at the stock item's unit price. */
const medicineItem = z.strictObject({ kind: z.literal('medicine'), stockItemId: uuid, quantity, description: text.optional() });

const createBody = z.strictObject({
  patientId: uuid,
  items: z.array(z.union([explicitItem, consultationItem, medicineItem])).min(1, 'at least one item').max(200),
  /** Basis points: 1800 = 18 %. */
  taxRate: z.number().int().min(0).max(10_000).default(0),
  discount: z.union([z.strictObject({ percentBasisPoints: z.number().int().min(0).max(10_000) }), z.strictObject({ amount: money })]).optional(),
  appointmentId: uuid.optional(),
});

/** What the desk records by hand. Online payments are recorded only on the provider's proof (payments.routes.ts). */
const DESK_METHODS = ['cash', 'card'] as const;
const ONLINE_HERE =
  "'online' is not recorded here — online payments are confirmed by the payment provider: POST /api/billing/{billId}/orders, pay at the provider's checkout, and its signed confirmation (POST /api/billing/payments/verify) records the payment";
const payBody = z.strictObject({
  amount: z.number().int('must be an integer number of minor units').min(1).max(1_000_000_000_000),
  method: z.enum(DESK_METHODS, { error: (iss) => (iss.input === 'online' ? ONLINE_HERE : "must be 'cash' or 'card'") }),
});
const PATIENT_PAYS_ONLINE =
  'a patient account pays online through the payment provider: create an order with POST /api/billing/{billId}/orders and pay it at the checkout; cash and card are taken at the front desk';
const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 visible ASCII characters');

const listQuery = z.strictObject({ status: z.enum(['unpaid', 'partial', 'paid', 'void']).optional(), ...paging });
const txQuery = z.strictObject({ patientId: uuid.optional(), billId: uuid.optional(), method: z.enum(METHODS).optional(), from: instant.optional(), to: instant.optional(), ...paging });

export function billingRoutes(ctx: AppContext): Route[] {
  const store = new BillingStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) }, ctx.notifications);
  return [
    // Online payment orders and the provider's confirmation (POST only: no clash with '{patientId}').
    ...paymentOrderRoutes(ctx, store),
    defineRoute({
      method: 'post',
      path: '/api/billing',
      tag: 'billing',
      summary: 'Generate a bill: consultation fees, lab tests, medicines; tax and discount (integer minor units)',
      permission: 'billing:create',
      body: createBody,
      status: 201,
      handler: ({ req, body }) => store.create(actorOf(req), body),
    }),
    // Before '{patientId}', which would otherwise refuse 'transactions' as a malformed id.
    defineRoute({
      method: 'get',
      path: '/api/billing/transactions',
      tag: 'billing',
      summary: 'Payments, newest first (filters: patientId, billId, method, from, to)',
      permission: 'billing:transactions',
      query: txQuery,
      handler: ({ req, query }) => store.transactions(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: '/api/billing/{patientId}',
      tag: 'billing',
      summary: "A patient's bills, newest first, with items and payments",
      permission: 'billing:read',
      params: z.strictObject({ patientId: uuid }),
      query: listQuery,
      handler: ({ req, params, query }) => store.forPatient(actorOf(req), params.patientId, query),
    }),
    defineRoute({
      method: 'post',
      path: '/api/billing/pay/{billingId}',
      tag: 'billing',
      summary:
        'Record a cash or card payment taken at the front desk (part of a bill); header Idempotency-Key required — a repeat returns the first result, never charges twice. Online payments: POST /api/billing/{billId}/orders',
      permission: 'billing:pay',
      // Least privilege (issue 11, finding 2): only the desk that took the money records it. A
      // patient is told where online payment is; everyone else gets the table's 403.
      refusals: { patient: PATIENT_PAYS_ONLINE },
      params: z.strictObject({ billingId: uuid }),
      body: payBody,
      async handler({ req, res, params, body }) {
        const rawKey = req.get('Idempotency-Key');
        if (rawKey === undefined) throw Errors.validation('header Idempotency-Key is required (a unique value per payment attempt, reused on retry)');
        const key = idempotencyKey.safeParse(rawKey);
        if (!key.success) throw Errors.validation(`header Idempotency-Key: ${key.error.issues[0]!.message}`);
        const out = await store.payAtDesk(actorOf(req), params.billingId, key.data, body);
        if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
        return out.result;
      },
    }),
  ];
}
