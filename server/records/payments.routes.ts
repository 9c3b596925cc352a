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
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam, parse } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { AppError, Errors } from '../errors.ts';
import { DbError } from '../../db/driver.ts';
import { assertVisible } from './scope.ts';
import { amountDue } from './billing.ts';
import { billForOrder, insertOrder, openOrder, orderByProviderId, recordProviderPayment, type PaymentOrder } from './billing.store.ts';
import { paidEvent } from './payments.ts';
import type { PaymentGateway } from './payment-provider.ts';

const OFF = 'online payment is not configured on this server (PAYMENT_KEY_ID and PAYMENT_KEY_SECRET are unset): pay at the front desk';

/** The provider's ids: `order_…`, `pay_…` — letters, digits, '_' and '-'. */
const providerId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "must be the payment provider's id (1–100 letters, digits, '_' or '-')");
const orderBody = z.strictObject({});
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

/** A refused confirmation: a security event in the log and the audit trail; nothing is recorded. */
function refuseSignature(ctx: AppContext, req: Request, source: 'checkout' | 'webhook', reason: string, ids: { orderId?: string; paymentId?: string; billId?: string; patientId?: string }) {
  (req.log ?? ctx.log).warn({ event: 'payment_signature_refused', source, reason, ...ids, userId: req.user?.id ?? null, ip: req.ip }, 'security: payment confirmation with a bad signature refused');
  ctx.audit(auditOf(req, 'pay-refused', 'payment-order', null, ids.patientId ?? null, { source, reason, providerOrderId: ids.orderId ?? null, providerPaymentId: ids.paymentId ?? null, billId: ids.billId ?? null }));
  return Errors.badSignature(`${reason}: the payment was not recorded`);
}

/** Record the proven payment; a 409 (money the provider took that cannot be applied) is logged for the desk. */
async function record(ctx: AppContext, req: Request, providerOrderId: string, providerPaymentId: string, source: 'checkout' | 'webhook') {
  try {
    const out = await recordProviderPayment(ctx.db.driver, { providerOrderId, providerPaymentId, recordedBy: req.user?.id ?? null });
    if (!out.replayed) {
      ctx.audit(
        auditOf(req, 'pay', 'bill', out.result.bill.id, out.result.bill.patientId, {
          paymentId: out.result.payment.id,
          amount: out.result.payment.amount,
          method: 'online',
          providerOrderId,
          providerPaymentId,
          source,
        }),
      );
    }
    return out;
  } catch (err) {
    if (err instanceof AppError && err.status === 409) {
      (req.log ?? ctx.log).warn({ event: 'payment_not_applied', source, providerOrderId, providerPaymentId, reason: err.message }, 'a payment the provider confirmed could not be applied: refund or reconcile it');
    }
    throw err;
  }
}

/** Orders and the checkout confirmation: mounted in billingRoutes (authenticated). */
export function paymentOrderRoutes(ctx: AppContext): Router {
  const r = Router();

  describeRoute({
    method: 'post',
    path: '/api/billing/{billId}/orders',
    tag: 'billing',
    summary: "Open an online payment at the payment provider for the bill's whole balance (computed by the server); 201 the order and what the checkout needs. 503 when online payment is not configured",
    permission: 'billing:order',
    body: orderBody,
    status: 201,
  });
  r.post(
    '/:billId/orders',
    allow('billing:order'),
    handler(async (req, res) => {
      const billId = idParam(req.params.billId, 'billId');
      if (req.body && typeof req.body === 'object' && 'amount' in req.body) {
        throw Errors.validation("body.amount: not accepted — an order is for the bill's balance, computed by the server");
      }
      parse(orderBody, req.body ?? {}, 'body');
      const bill = await billForOrder(ctx.db.driver, billId);
      await assertVisible(ctx, req.user!, bill?.patientId, 'bill', billId);
      const g = gateway(ctx);
      const due = amountDue(bill!);
      if (!due.ok) throw Errors.conflict(due.error);
      if (bill!.currency !== g.currency) throw Errors.conflict(`the bill is in ${bill!.currency} and the payment provider account takes ${g.currency}: pay at the front desk`);

      // A checkout still open for the same balance: the same order, which the provider lets be paid once.
      const open = await openOrder(ctx.db.driver, billId, due.value, g.currency);
      if (open) {
        res.status(200).json(orderView(open, g));
        return;
      }
      const made = await g.createOrder({ amount: due.value, currency: g.currency, receipt: billId, notes: { bill_id: billId } });
      const order = await insertOrder(ctx.db.driver, { providerOrderId: made.id, billId, amount: made.amount, currency: made.currency, createdBy: req.user!.id }).catch((err) => {
        // An order id we already hold, from the provider: never reuse it for another bill.
        if (err instanceof DbError && err.code === '23505') throw Errors.paymentProvider(`the payment provider returned order id '${made.id}', which is already in use: not used`);
        throw err;
      });
      ctx.audit(auditOf(req, 'create', 'payment-order', order.id, bill!.patientId, { billId, amount: order.amount, currency: order.currency, providerOrderId: order.providerOrderId }));
      res.status(201).json(orderView(order, g));
    }),
  );

  describeRoute({
    method: 'post',
    path: '/api/billing/payments/verify',
    tag: 'billing',
    summary:
      "The checkout's confirmation { razorpay_order_id, razorpay_payment_id, razorpay_signature }: with the provider's signature the payment is recorded for the order's amount, once (a replay answers the same payment, header Idempotent-Replayed: true); a bad signature is refused (400) and nothing recorded",
    permission: 'billing:order',
    body: verifyBody,
  });
  r.post(
    '/payments/verify',
    allow('billing:order'),
    handler(async (req, res) => {
      const body = parse(verifyBody, req.body, 'body');
      const g = gateway(ctx);
      const order = await orderByProviderId(ctx.db.driver, body.razorpay_order_id);
      await assertVisible(ctx, req.user!, order?.patientId, 'payment order', body.razorpay_order_id);
      // The order id signed over is the one we stored (Razorpay: "use the stored order_id").
      const check = g.verifyPayment(order!.providerOrderId, body.razorpay_payment_id, body.razorpay_signature);
      if (!check.ok) {
        throw refuseSignature(ctx, req, 'checkout', check.reason, { orderId: order!.providerOrderId, paymentId: body.razorpay_payment_id, billId: order!.billId, patientId: order!.patientId });
      }
      const out = await record(ctx, req, order!.providerOrderId, body.razorpay_payment_id, 'checkout');
      if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.json(out.result);
    }),
  );
  return r;
}

/**
 * The provider's server-to-server webhook: no login — the signature over the raw body is the
 * authentication — so it is mounted before the JSON parser and outside the authenticated routes.
 */
export function paymentWebhookRoutes(ctx: AppContext): Router {
  const r = Router();
  describeRoute({
    method: 'post',
    path: '/api/billing/payments/webhook',
    tag: 'billing',
    summary:
      "The payment provider's webhook (payment.captured, order.paid), header X-Razorpay-Signature = hex HMAC-SHA256 of the raw body with PAYMENT_WEBHOOK_SECRET; records the payment once, idempotent with /payments/verify. 404 when PAYMENT_WEBHOOK_SECRET is unset",
    public: true,
  });
  r.post(
    '/',
    express.raw({ type: () => true, limit: '256kb' }),
    handler(async (req, res) => {
      if (!ctx.payments?.webhookEnabled) throw Errors.notFound('endpoint POST /api/billing/payments/webhook (the payment webhook is off: PAYMENT_WEBHOOK_SECRET is unset)');
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = ctx.payments.verifyWebhook(raw, req.get('x-razorpay-signature'));
      if (!check.ok) throw refuseSignature(ctx, req, 'webhook', check.reason, {});
      let event: unknown;
      try {
        event = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        throw Errors.badJson((err as Error).message);
      }
      const paid = paidEvent(event);
      // Acknowledged (2xx) so the provider does not retry what we do not act on.
      const name = typeof (event as { event?: unknown } | null)?.event === 'string' ? (event as { event: string }).event : '(none)';
      if (!paid) {
        res.json({ received: true, recorded: false, reason: `event '${name.slice(0, 60)}' does not confirm a payment of an order: ignored` });
        return;
      }
      const order = await orderByProviderId(ctx.db.driver, paid.orderId);
      if (!order) {
        (req.log ?? ctx.log).warn({ event: 'payment_webhook_unknown_order', providerOrderId: paid.orderId, providerPaymentId: paid.paymentId }, 'payment webhook for an order this server did not make: ignored');
        res.json({ received: true, recorded: false, reason: `order '${paid.orderId}' is not one of this server's: ignored` });
        return;
      }
      if ((paid.amount !== null && paid.amount !== order.amount) || (paid.currency !== null && paid.currency !== order.currency)) {
        (req.log ?? ctx.log).error({ event: 'payment_amount_mismatch', providerOrderId: order.providerOrderId, providerPaymentId: paid.paymentId, paid: paid.amount, currency: paid.currency, order: order.amount }, 'payment amount differs from its order: not recorded');
        throw Errors.conflict(`payment '${paid.paymentId}' is for ${paid.amount} ${paid.currency}, its order '${order.providerOrderId}' for ${order.amount} ${order.currency}: not recorded — reconcile it at the payment provider`);
      }
      const out = await record(ctx, req, order.providerOrderId, paid.paymentId, 'webhook');
      if (out.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.json({ received: true, recorded: !out.replayed, ...out.result });
    }),
  );
  return r;
}
