// Online payments, the pure part: the provider's signatures and what a confirmation must prove.
// No I/O. The provider is Razorpay or anything that signs as it does:
//
// - Checkout callback (Razorpay, "Verify payment signature"): razorpay_signature is the hex
//   HMAC-SHA256, keyed with the API key secret, of `<order_id>|<payment_id>` — with the order id
//   *we stored*, never one taken from the callback alone.
// - Webhook (Razorpay, "Validate webhooks"): X-Razorpay-Signature is the hex HMAC-SHA256, keyed
//   with the webhook secret, of the raw request body bytes (never re-serialised JSON).
//
// Signatures are compared with crypto.timingSafeEqual on equal-length buffers, so the time taken
// says nothing about how much of a forged signature was right (CWE-208).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** hex HMAC-SHA256 of `order_id|payment_id` with the key secret — what the provider sends to checkout. */
export function paymentSignature(orderId: string, paymentId: string, keySecret: string): string {
  return createHmac('sha256', keySecret).update(`${orderId}|${paymentId}`, 'utf8').digest('hex');
}

/** hex HMAC-SHA256 of the raw webhook body with the webhook secret. */
export function webhookSignature(rawBody: Buffer | string, webhookSecret: string): string {
  return createHmac('sha256', webhookSecret).update(rawBody).digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Constant-time comparison of a received hex signature with the expected one. */
export function sameSignature(expectedHex: string, receivedHex: string): boolean {
  // Both are 64 lower-case hex characters by the time they get here; decoding them gives two
  // 32-byte buffers, the equal lengths timingSafeEqual requires.
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(receivedHex, 'hex');
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

function check(expectedHex: string, received: string | undefined, field: string): SignatureCheck {
  if (received === undefined || received === '') return { ok: false, reason: `${field}: missing` };
  // Hex is case-insensitive; the provider sends lower case.
  const normalised = received.toLowerCase();
  if (!HEX_SHA256.test(normalised)) return { ok: false, reason: `${field}: must be 64 hexadecimal characters (an HMAC-SHA256)` };
  if (!sameSignature(expectedHex, normalised)) return { ok: false, reason: `${field}: does not match — not signed by the payment provider with this account's secret` };
  return { ok: true };
}

/** Does `signature` prove the provider confirmed `paymentId` for our stored `orderId`? */
export function verifyPaymentSignature(orderId: string, paymentId: string, signature: string | undefined, keySecret: string): SignatureCheck {
  return check(paymentSignature(orderId, paymentId, keySecret), signature, 'razorpay_signature');
}

/** Does `signature` (the X-Razorpay-Signature header) prove the provider sent exactly `rawBody`? */
export function verifyWebhookSignature(rawBody: Buffer, signature: string | undefined, webhookSecret: string): SignatureCheck {
  return check(webhookSignature(rawBody, webhookSecret), signature, 'header X-Razorpay-Signature');
}

/** What the provider's order must say back: exactly what we asked for. */
export function orderMatches(asked: { amount: number; currency: string; receipt: string }, got: { amount: number; currency: string; receipt?: string | null }): string | null {
  if (got.amount !== asked.amount) return `an order for ${got.amount}, not the ${asked.amount} asked for`;
  if (got.currency !== asked.currency) return `an order in ${got.currency}, not ${asked.currency}`;
  if (got.receipt != null && got.receipt !== asked.receipt) return `an order with receipt '${got.receipt}', not '${asked.receipt}'`;
  return null;
}

/**
 * The events of the provider's webhook that prove a payment, and the order and payment they name.
 * Anything else (payment.authorized, payment.failed, refunds …) is acknowledged and ignored.
 */
export function paidEvent(event: unknown): { orderId: string; paymentId: string; amount: number | null; currency: string | null } | null {
  if (typeof event !== 'object' || event === null) return null;
  const e = event as { event?: unknown; payload?: { payment?: { entity?: Record<string, unknown> }; order?: { entity?: Record<string, unknown> } } };
  if (e.event !== 'payment.captured' && e.event !== 'order.paid') return null;
  const payment = e.payload?.payment?.entity;
  const orderId = payment?.order_id ?? e.payload?.order?.entity?.id;
  if (typeof payment?.id !== 'string' || typeof orderId !== 'string') return null;
  return {
    orderId,
    paymentId: payment.id,
    amount: typeof payment.amount === 'number' ? payment.amount : null,
    currency: typeof payment.currency === 'string' ? payment.currency : null,
  };
}
