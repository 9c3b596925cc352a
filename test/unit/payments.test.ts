// The provider's signatures and what a confirmation must prove (server/records/payments.ts), and the
// amount an online order charges (amountDue, server/records/billing.ts). Known answers were computed
// with OpenSSL, independently of Node:
//   printf 'order_KnownAnswer01|pay_KnownAnswer01' | openssl dgst -sha256 -hmac 'test-key-secret-0123456789'
//   printf '{"event":"payment.captured"}' | openssl dgst -sha256 -hmac 'test-webhook-secret-0123'
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { orderMatches, paidEvent, paymentSignature, sameSignature, verifyPaymentSignature, verifyWebhookSignature, webhookSignature } from '../../server/records/payments.ts';
import { amountDue } from '../../server/records/billing.ts';
import { createPaymentGateway } from '../../server/records/payment-provider.ts';
import { AppError } from '../../server/errors.ts';

const KEY = 'test-key-secret-0123456789';
const CHECKOUT_SIG = '59255e6210ad9806effe6e9f7b0bb8abce18df78f7363d10cf44c6ab9cc95d8b';
const HOOK_KEY = 'test-webhook-secret-0123';
const HOOK_BODY = '{"event":"payment.captured"}';
const HOOK_SIG = 'f82419e4602cc165dcb420ef4c844e4c175adb02a8b5468c59159a817b299cf0';

describe('checkout signature (Razorpay: HMAC-SHA256 of order_id|payment_id with the key secret)', () => {
  it('matches the known answer', () => {
    expect(paymentSignature('order_KnownAnswer01', 'pay_KnownAnswer01', KEY)).toBe(CHECKOUT_SIG);
    expect(verifyPaymentSignature('order_KnownAnswer01', 'pay_KnownAnswer01', CHECKOUT_SIG, KEY)).toEqual({ ok: true });
    // Hex is case-insensitive.
    expect(verifyPaymentSignature('order_KnownAnswer01', 'pay_KnownAnswer01', CHECKOUT_SIG.toUpperCase(), KEY)).toEqual({ ok: true });
  });

  it.each([
    ['another payment id', 'order_KnownAnswer01', 'pay_KnownAnswer02', CHECKOUT_SIG, /does not match/],
    ['another order id', 'order_KnownAnswer02', 'pay_KnownAnswer01', CHECKOUT_SIG, /does not match/],
    // The separator is part of what is signed: ids that carry one make another message.
    ['a separator inside an id', 'order_KnownAnswer01|pay', '_KnownAnswer01', CHECKOUT_SIG, /does not match/],
    ['one hex digit off', 'order_KnownAnswer01', 'pay_KnownAnswer01', CHECKOUT_SIG.slice(0, -1) + 'c', /does not match/],
    ['too short', 'order_KnownAnswer01', 'pay_KnownAnswer01', CHECKOUT_SIG.slice(0, 62), /64 hexadecimal characters/],
    ['too long', 'order_KnownAnswer01', 'pay_KnownAnswer01', CHECKOUT_SIG + '00', /64 hexadecimal characters/],
    ['not hex', 'order_KnownAnswer01', 'pay_KnownAnswer01', 'z'.repeat(64), /64 hexadecimal characters/],
    ['base64 of the right bytes', 'order_KnownAnswer01', 'pay_KnownAnswer01', Buffer.from(CHECKOUT_SIG, 'hex').toString('base64'), /64 hexadecimal characters/],
    ['empty', 'order_KnownAnswer01', 'pay_KnownAnswer01', '', /missing/],
  ])('refuses %s', (_name, order, payment, sig, reason) => {
    const r = verifyPaymentSignature(order, payment, sig, KEY);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^razorpay_signature: /);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('refuses a signature made with any other secret', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s !== KEY), (other) => {
        expect(verifyPaymentSignature('order_KnownAnswer01', 'pay_KnownAnswer01', paymentSignature('order_KnownAnswer01', 'pay_KnownAnswer01', other), KEY).ok).toBe(false);
      }),
    );
  });

  it('compares equal-length buffers only, never throwing on odd input', () => {
    expect(sameSignature(CHECKOUT_SIG, CHECKOUT_SIG)).toBe(true);
    expect(sameSignature(CHECKOUT_SIG, 'abc')).toBe(false);
    expect(sameSignature(CHECKOUT_SIG, '')).toBe(false);
  });
});

describe('webhook signature (Razorpay: HMAC-SHA256 of the raw body with the webhook secret)', () => {
  it('matches the known answer over the exact bytes', () => {
    expect(webhookSignature(HOOK_BODY, HOOK_KEY)).toBe(HOOK_SIG);
    expect(verifyWebhookSignature(Buffer.from(HOOK_BODY), HOOK_SIG, HOOK_KEY)).toEqual({ ok: true });
    // Re-serialised JSON (a space) is another body.
    expect(verifyWebhookSignature(Buffer.from('{"event": "payment.captured"}'), HOOK_SIG, HOOK_KEY).ok).toBe(false);
    expect(verifyWebhookSignature(Buffer.from(HOOK_BODY), undefined, HOOK_KEY)).toEqual({ ok: false, reason: 'header X-Razorpay-Signature: missing' });
  });
});

describe('paidEvent', () => {
  const payment = { id: 'pay_A', order_id: 'order_A', amount: 500, currency: 'EUR' };
  it('takes payment.captured and order.paid, with the order from the payment entity', () => {
    expect(paidEvent({ event: 'payment.captured', payload: { payment: { entity: payment } } })).toEqual({ orderId: 'order_A', paymentId: 'pay_A', amount: 500, currency: 'EUR' });
    expect(paidEvent({ event: 'order.paid', payload: { payment: { entity: payment }, order: { entity: { id: 'order_A' } } } })).toMatchObject({ orderId: 'order_A', paymentId: 'pay_A' });
  });
  it.each([
    ['payment.authorized', { event: 'payment.authorized', payload: { payment: { entity: payment } } }],
    ['payment.failed', { event: 'payment.failed', payload: { payment: { entity: payment } } }],
    ['no payment entity', { event: 'order.paid', payload: { order: { entity: { id: 'order_A' } } } }],
    ['a number for an id', { event: 'payment.captured', payload: { payment: { entity: { ...payment, id: 7 } } } }],
    ['null', null],
    ['an array', []],
  ])('ignores %s', (_name, e) => {
    expect(paidEvent(e)).toBeNull();
  });
});

describe('orderMatches', () => {
  const asked = { amount: 1000, currency: 'EUR', receipt: 'r1' };
  it('accepts exactly what was asked and names any difference', () => {
    expect(orderMatches(asked, { amount: 1000, currency: 'EUR', receipt: 'r1' })).toBeNull();
    expect(orderMatches(asked, { amount: 999, currency: 'EUR' })).toBe('an order for 999, not the 1000 asked for');
    expect(orderMatches(asked, { amount: 1000, currency: 'INR' })).toBe('an order in INR, not EUR');
    expect(orderMatches(asked, { amount: 1000, currency: 'EUR', receipt: 'r2' })).toBe("an order with receipt 'r2', not 'r1'");
  });
});

describe('amountDue', () => {
  it('is the whole outstanding balance, refused for a settled or void bill', () => {
    expect(amountDue({ total: 10_000, paid: 2_345, status: 'partial' })).toEqual({ ok: true, value: 7_655 });
    expect(amountDue({ total: 500, paid: 0, status: 'unpaid' })).toEqual({ ok: true, value: 500 });
    expect(amountDue({ total: 500, paid: 500, status: 'paid' })).toEqual({ ok: false, error: 'the bill is already paid' });
    expect(amountDue({ total: 0, paid: 0, status: 'paid' })).toEqual({ ok: false, error: 'the bill is already paid' });
    expect(amountDue({ total: 500, paid: 0, status: 'void' })).toEqual({ ok: false, error: 'the bill is void' });
  });
});

describe('createPaymentGateway', () => {
  const settings = { url: 'https://provider.test/', keyId: 'rzp_test_k', keySecret: KEY, webhookSecret: null, currency: 'EUR', timeoutMs: 1000 };
  const order = { amount: 1000, currency: 'EUR', receipt: 'r1', notes: {} };
  const failsWith = async (f: typeof fetch, message: RegExp) => {
    const err = await createPaymentGateway(settings, f).createOrder(order).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'ERR_PAYMENT_PROVIDER', status: 502 });
    expect(err.message).toMatch(message);
  };

  it('calls POST {url}/v1/orders with Basic credentials and takes back the same order', async () => {
    let seen: { url: string; init: RequestInit } | null = null;
    const f = (async (url: string, init: RequestInit) => {
      seen = { url, init };
      return new Response(JSON.stringify({ id: 'order_1', amount: 1000, currency: 'EUR', receipt: 'r1', status: 'created' }), { status: 200 });
    }) as unknown as typeof fetch;
    expect(await createPaymentGateway(settings, f).createOrder(order)).toEqual({ id: 'order_1', amount: 1000, currency: 'EUR', receipt: 'r1', status: 'created' });
    expect(seen!.url).toBe('https://provider.test/v1/orders');
    expect((seen!.init.headers as Record<string, string>).authorization).toBe(`Basic ${Buffer.from(`rzp_test_k:${KEY}`).toString('base64')}`);
    expect(JSON.parse(seen!.init.body as string)).toEqual(order);
  });

  it('turns every provider failure into a 502 with a reason', async () => {
    const unreachable = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    await failsWith((async () => { throw unreachable; }) as unknown as typeof fetch, /could not be reached \(ECONNREFUSED\)/);
    await failsWith((async () => { throw Object.assign(new Error('timeout'), { name: 'TimeoutError' }); }) as unknown as typeof fetch, /did not answer within 1000 ms/);
    await failsWith((async () => new Response('<html>oops</html>', { status: 200 })) as unknown as typeof fetch, /not JSON/);
    await failsWith((async () => new Response('{"id":"order_1"}', { status: 200 })) as unknown as typeof fetch, /without a usable order/);
    await failsWith((async () => new Response('{"error":{"description":"Authentication failed"}}', { status: 401 })) as unknown as typeof fetch, /refused the order \(HTTP 401: Authentication failed\)/);
  });

  it('has no webhook without a webhook secret', () => {
    const g = createPaymentGateway(settings);
    expect(g.webhookEnabled).toBe(false);
    expect(g.verifyWebhook(Buffer.from(HOOK_BODY), HOOK_SIG)).toEqual({ ok: false, reason: 'the payment webhook is not configured (PAYMENT_WEBHOOK_SECRET)' });
  });
});
