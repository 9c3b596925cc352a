// Online payments proven by the payment provider (issue 11, finding 2; ADR 0015), Razorpay's flow:
//   1. POST /api/billing/{billId}/orders — the server asks the provider for an order of the bill's
//      balance (its own figure) and stores it;
//   2. the patient pays at the provider's checkout, which hands the browser
//      { razorpay_order_id, razorpay_payment_id, razorpay_signature };
//   3. POST /api/billing/payments/verify — the signature (HMAC-SHA256 with the key secret, which
//      only the provider and this server hold) proves the payment; only then is it recorded, once.
//   and, server to server, POST /api/billing/payments/webhook (payment.captured, order.paid),
//   signed over the raw body with the webhook secret, idempotent with step 3.
// Nothing a client says about money is believed: not an amount, not "paid".
import express, { type Request } from 'express';
import { z } from 'zod';
import { actorOf, type AppContext } from '../http/context.ts';
import { uuid } from '../http/validate.ts';
import { defineRoute, type Route, type RouteInput } from '../http/route.ts';
import { AppError, Errors, fail } from '../errors.ts';
import { amountDue } from './billing.ts';
import { BillingStore, type PaymentOrder, type Recorder } from './billing.store.ts';
import { paidEvent } from './payments.ts';
import type { PaymentGateway } from './payment-provider.ts';

const OFF = 'online payment is not configured on this server (PAYMENT_KEY_ID and PAYMENT_KEY_SECRET are unset): pay at the front desk';

/** The provider's ids: `order_…`, `pay_…` — letters, digits, '_' and '-'. */
const providerId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "must be the payment provider's id (1–100 letters, digits, '_' or '-')");
// The body is `{}` (or none, or null); an amount is refused by name: the server computes what is due.
const orderBody = z.preprocess(
  (b) => b ?? undefined,
  z.strictObject({ amount: z.never({ error: "not accepted — an order is for the bill's balance, computed by the server" }).optional() }).optional(),
);
const verifyBody = z.strictObject({
  razorpay_order_id: providerId,
  razorpay_payment_id: providerId,
  // Its form is checked with the signature itself, so a malformed one is logged as a refused signature too.
  razorpay_signature: z.string().max(256, 'too long'),
});

function gateway(ctx: AppContext): PaymentGateway {
  if (!ctx.payments) throw Errors.unavailable(OFF);
  return ctx.payments;
}

const orderView = (o: PaymentOrder, g: PaymentGateway) => ({
  ...o,
  // What the provider's checkout is opened with (Razorpay Checkout options: key, order_id, amount, currency).
  checkout: { key: g.keyId, orderId: o.providerOrderId, amount: o.amount, currency: o.currency },
});

type Audit = RouteInput<unknown, unknown, unknown>['audit'];

/** A refused confirmation: a security event in the log and the audit trail; nothing is recorded. */
function refuseSignature(ctx: AppContext, req: Request, audit: Audit, source: 'checkout' | 'webhook', reason: string, ids: { orderId?: string; paymentId?: string; billId?: string; patientId?: string }) {
  (req.log ?? ctx.log).warn({ event: 'payment_signature_refused', source, reason, ...ids, userId: req.user?.id ?? null, ip: req.ip }, 'security: payment confirmation with a bad signature refused');
  audit('pay-refused', 'payment-order', null, ids.patientId ?? null, { source, reason, providerOrderId: ids.orderId ?? null, providerPaymentId: ids.paymentId ?? null, billId: ids.billId ?? null });
  return Errors.badSignature(`${reason}: the payment was not recorded`);
}

/** Record the proven payment (audited by the store); a 409 (money the provider took that cannot be applied) is logged for the desk. */
async function record(ctx: AppContext, store: BillingStore, req: Request, providerOrderId: string, providerPaymentId: string, source: 'checkout' | 'webhook') {
  const who: Recorder = req.user ? actorOf(req) : { user: null, ip: req.ip ?? null };
  try {
    return await store.recordProviderPayment(who, { providerOrderId, providerPaymentId, source });
  } catch (err) {
    if (err instanceof AppError && err.status === 409) {
      (req.log ?? ctx.log).warn({ event: 'payment_not_applied', source, providerOrderId, providerPaymentId, reason: err.message }, 'a payment the provider confirmed could not be applied: refund or reconcile it');
    }
    throw err;
  }
}

/** Orders and the checkout confirmation (authenticated): declared with billingRoutes. */
export function paymentOrderRoutes(ctx: AppContext, store: BillingStore): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/billing/{billId}/orders',
      tag: 'billing',
      summary: "Open an online payment at the payment provider for the bill's whole balance (computed by the server); 201 the order and what the checkout needs. 503 when online payment is not configured",
      permission: 'billing:order',
      params: z.strictObject({ billId: uuid }),
      body: orderBody,
      status: 201,
      async handler({ req, res, params }) {
        const billId = params.billId;
        const bill = await store.billForOrder(req.user!, billId);
        const g = gateway(ctx);
        const due = amountDue(bill);
        if (!due.ok) throw fail('ERR_PAYMENT_REFUSED', due.error);
        if (bill.currency !== g.currency) throw fail('ERR_PAYMENT_REFUSED', `the bill is in ${bill.currency} and the payment provider account takes ${g.currency}: pay at the front desk`);

        // A checkout still open for the same balance: the same order, which the provider lets be paid once.
        const open = await store.openOrder(billId, due.value, g.currency);
        if (open) {
          res.status(200).json(orderView(open, g));
          return undefined;
        }
        const made = await g.createOrder({ amount: due.value, currency: g.currency, receipt: billId, notes: { bill_id: billId } });
        const order = await store.insertOrder(actorOf(req), bill.patientId, { providerOrderId: made.id, billId, amount: made.amount, currency: made.currency });
        return orderView(order, g);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/billing/payments/verify',
      tag: 'billing',
      summary:
        "The checkout's confirmation { razorpay_order_id, razorpay_payment_id, razorpay_signature }: with the provider's signature the payment is recorded for the order's amount, once (a replay answers the same payment, header Idempotent-Replayed: true); a bad signature is refused (400) and nothing recorded",
      permission: 'billing:order',
      body: verifyBody,
      async handler({ req, res, body, audit }) {
        const g = gateway(ctx);
        const order = await store.visibleOrder(req.user!, body.razorpay_order_id);
        // The order id signed over is the one we stored (Razorpay: "use the stored order_id").
        const check = g.verifyPayment(order.providerOrderId, body.razorpay_payment_id, body.razorpay_signature);
        if (!check.ok) {
          throw refuseSignature(ctx, req, audit, 'checkout', check.reason, { orderId: order.providerOrderId, paymentId: body.razorpay_payment_id, billId: order.billId, patientId: order.patientId });
        }
        const out = await record(ctx, store, req, order.providerOrderId, body.razorpay_payment_id, 'checkout');
        if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
        return out.result;
      },
    }),
  ];
}

/**
 * The provider's server-to-server webhook: no login — the signature over the raw body is the
 * authentication — so it is mounted before the JSON parser (app.ts) and reads the raw bytes.
 */
export function paymentWebhookRoutes(ctx: AppContext): Route[] {
  const store = new BillingStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) }, ctx.notifications);
  return [
    defineRoute({
      method: 'post',
      path: '/api/billing/payments/webhook',
      tag: 'billing',
      summary:
        "The payment provider's webhook (payment.captured, order.paid), header X-Razorpay-Signature = hex HMAC-SHA256 of the raw body with PAYMENT_WEBHOOK_SECRET; records the payment once, idempotent with /payments/verify. 404 when PAYMENT_WEBHOOK_SECRET is unset",
      permission: 'public',
      before: [express.raw({ type: () => true, limit: '256kb' })],
      async handler({ req, res, audit }) {
        if (!ctx.payments?.webhookEnabled) throw Errors.notFound('endpoint POST /api/billing/payments/webhook (the payment webhook is off: PAYMENT_WEBHOOK_SECRET is unset)');
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const check = ctx.payments.verifyWebhook(raw, req.get('x-razorpay-signature'));
        if (!check.ok) throw refuseSignature(ctx, req, audit, 'webhook', check.reason, {});
        let event: unknown;
        try {
          event = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw Errors.badJson((err as Error).message);
        }
        const paid = paidEvent(event);
        // Acknowledged (2xx) so the provider does not retry what we do not act on.
        const name = typeof (event as { event?: unknown } | null)?.event === 'string' ? (event as { event: string }).event : '(none)';
        if (!paid) return { received: true, recorded: false, reason: `event '${name.slice(0, 60)}' does not confirm a payment of an order: ignored` };
        const order = await store.orderByProviderId(paid.orderId);
        if (!order) {
          (req.log ?? ctx.log).warn({ event: 'payment_webhook_unknown_order', providerOrderId: paid.orderId, providerPaymentId: paid.paymentId }, 'payment webhook for an order this server did not make: ignored');
          return { received: true, recorded: false, reason: `order '${paid.orderId}' is not one of this server's: ignored` };
        }
        if ((paid.amount !== null && paid.amount !== order.amount) || (paid.currency !== null && paid.currency !== order.currency)) {
          (req.log ?? ctx.log).error({ event: 'payment_amount_mismatch', providerOrderId: order.providerOrderId, providerPaymentId: paid.paymentId, paid: paid.amount, currency: paid.currency, order: order.amount }, 'payment amount differs from its order: not recorded');
          throw fail('ERR_PAYMENT_MISMATCH', `payment '${paid.paymentId}' is for ${paid.amount} ${paid.currency}, its order '${order.providerOrderId}' for ${order.amount} ${order.currency}: not recorded — reconcile it at the payment provider`);
        }
        const out = await record(ctx, store, req, order.providerOrderId, paid.paymentId, 'webhook');
        if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
        return { received: true, recorded: !out.replayed, ...out.result };
      },
    }),
  ];
}
