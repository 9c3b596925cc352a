// Drivers: the provider flow runs on both; the last block (online payment off without provider settings) is configuration only, on PGlite.
// Online payments proven by the payment provider (issue 11, finding 2), end to end on each database
// driver, against a local stand-in for a Razorpay-style provider on a real HTTP port that signs as
// the real one does (test/helpers/payment-provider.ts): a patient opens an order for their own
// bill, the provider's signed confirmation records it once, a forged one records nothing, replays
// charge nothing more; cash and card are the front desk's alone; without provider settings online
// payment is off with a clear message.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { startFakeProvider, type FakeProvider } from '../helpers/payment-provider.ts';

type Confirmation = { razorpay_order_id: string; razorpay_payment_id: string; razorpay_signature: string };

function helpers(get: () => Stack) {
  const s = () => get();
  const password = () => `pw-${randomUUID()}`;
  return {
    async staff(role: string) {
      const email = `${role}-${randomUUID().slice(0, 8)}@pay.test`;
      const pw = password();
      const r = await s().api('POST', '/api/auth/register', { email, name: `${role} user`, password: pw, role });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return s().login(email, pw);
    },
    /** A patient account linked to its own new patient record. */
    async patient() {
      const email = `patient-${randomUUID().slice(0, 8)}@pay.test`;
      const pw = password();
      const r = await s().api('POST', '/api/auth/register', { email, name: 'Pay Tient', password: pw });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return { patientId: r.body.patientId as string, token: await s().login(email, pw) };
    },
    async bill(desk: string, patientId: string, total: number) {
      const r = await s().api('POST', '/api/billing', { patientId, items: [{ kind: 'other', description: 'Dressing', quantity: 1, unitPrice: total }] }, desk);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    },
    order: (billId: string, token: string, body: unknown = {}) => s().api('POST', `/api/billing/${billId}/orders`, body, token),
    async post(path: string, body: unknown, token: string | null, headers: Record<string, string> = {}) {
      const res = await fetch(s().base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, replayed: res.headers.get('idempotent-replayed') };
    },
    verify(c: Confirmation, token: string) {
      return this.post('/api/billing/payments/verify', c, token);
    },
    pay(billId: string, body: unknown, token: string, key = randomUUID()) {
      return this.post(`/api/billing/pay/${billId}`, body, token, { 'idempotency-key': key });
    },
    async billOf(desk: string, patientId: string, billId: string) {
      const r = await s().api('GET', `/api/billing/${patientId}?limit=500`, undefined, desk);
      expect(r.status).toBe(200);
      return r.body.items.find((b: { id: string }) => b.id === billId);
    },
  };
}

describe.each<DbKind>(['pglite', 'postgres'])('online payments proven by the provider on %s', (kind) => {
  let stack: Stack;
  let provider: FakeProvider;
  let desk: string;
  const h = helpers(() => stack);

  beforeAll(async () => {
    provider = await startFakeProvider();
    stack = await startStack(kind, inject('pgUrl'), {
      PAYMENT_PROVIDER_URL: provider.url,
      PAYMENT_KEY_ID: provider.keyId,
      PAYMENT_KEY_SECRET: provider.keySecret,
      PAYMENT_WEBHOOK_SECRET: provider.webhookSecret,
      PAYMENT_PROVIDER_TIMEOUT_MS: '500',
    });
    desk = await h.staff('front-desk');
  });
  afterAll(async () => {
    await stack?.close();
    await provider?.close();
  });

  it("lets a patient open an order for their own bill, for the bill's balance as the server computes it", async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 12_345);
    // A partial payment at the desk first: the order is for what is left.
    expect((await h.pay(billId, { amount: 2_345, method: 'cash' }, desk)).status).toBe(200);
    const before = provider.orders.length;

    const o = await h.order(billId, me.token);
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    expect(o.body).toMatchObject({ billId, amount: 10_000, currency: 'EUR', status: 'created', providerOrderId: expect.stringMatching(/^order_/) });
    expect(o.body.checkout).toEqual({ key: provider.keyId, orderId: o.body.providerOrderId, amount: 10_000, currency: 'EUR' });
    // The provider was asked, with the account's Basic credentials, for exactly that.
    expect(provider.orders.length).toBe(before + 1);
    const asked = provider.orders.at(-1)!;
    expect(asked.authorization).toBe(`Basic ${Buffer.from(`${provider.keyId}:${provider.keySecret}`).toString('base64')}`);
    expect(asked.body).toMatchObject({ amount: 10_000, currency: 'EUR', receipt: billId, notes: { bill_id: billId } });

    // A second click while the checkout is open: the same order, no new one at the provider.
    const again = await h.order(billId, me.token);
    expect(again.status).toBe(200);
    expect(again.body.providerOrderId).toBe(o.body.providerOrderId);
    expect(provider.orders.length).toBe(before + 1);

    // The client never names the amount.
    const cheap = await h.order(billId, me.token, { amount: 1 });
    expect(cheap).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/^body\.amount: not accepted/) } } });
    expect((await h.order(billId, me.token, { currency: 'INR' })).status).toBe(400);
  });

  it('refuses a forged confirmation with a precise reason and records nothing', async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 5_000);
    const o = await h.order(billId, me.token);
    expect(o.status).toBe(201);
    const genuine = provider.checkout(o.body.providerOrderId);
    const other = provider.checkout(o.body.providerOrderId);

    const forgeries: [Confirmation, RegExp][] = [
      // Signed with a key that is not the account's secret.
      [{ ...genuine, razorpay_signature: createHmac('sha256', 'not-the-secret').update(`${genuine.razorpay_order_id}|${genuine.razorpay_payment_id}`).digest('hex') }, /does not match/],
      // A genuine signature, for another payment.
      [{ ...genuine, razorpay_signature: other.razorpay_signature }, /does not match/],
      // One character changed.
      [{ ...genuine, razorpay_signature: genuine.razorpay_signature.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }, /does not match/],
      [{ ...genuine, razorpay_signature: 'paid' }, /must be 64 hexadecimal characters/],
      [{ ...genuine, razorpay_signature: '' }, /missing/],
    ];
    for (const [c, reason] of forgeries) {
      const r = await h.verify(c, me.token);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.code).toBe('ERR_BAD_SIGNATURE');
      expect(r.body.error.message).toMatch(/^razorpay_signature: /);
      expect(r.body.error.message).toMatch(reason);
      expect(r.body.error.message).toMatch(/the payment was not recorded$/);
    }
    const b = await h.billOf(desk, me.patientId, billId);
    expect(b).toMatchObject({ paid: 0, status: 'unpaid', payments: [] });
    // Each refusal is a security event in the audit trail.
    const refused = await eventually(async () => {
      const a = await stack.api('GET', `/api/audit?patientId=${me.patientId}&limit=200`);
      const rows = a.body.items.filter((e: { action: string }) => e.action === 'pay-refused');
      return rows.length === forgeries.length && rows;
    }, 5000, 'pay-refused audit rows');
    expect(refused[0]).toMatchObject({ resource: 'payment-order', actorRole: 'patient', details: { source: 'checkout', billId, providerOrderId: genuine.razorpay_order_id } });

    // The genuine one still works afterwards.
    expect((await h.verify(genuine, me.token)).status).toBe(200);
  });

  it("records the payment on the provider's signature once; a replay charges nothing more", async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 7_500);
    const o = await h.order(billId, me.token);
    const c = provider.checkout(o.body.providerOrderId);

    const first = await h.verify(c, me.token);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.replayed).toBeNull();
    expect(first.body).toMatchObject({
      payment: { billId, amount: 7_500, method: 'online', providerPaymentId: c.razorpay_payment_id, idempotencyKey: null },
      bill: { id: billId, total: 7_500, paid: 7_500, balance: 0, status: 'paid' },
    });

    // The browser retries, the user reloads, five tabs at once: the same payment, charged once.
    const again = await h.verify(c, me.token);
    expect(again).toMatchObject({ status: 200, replayed: 'true' });
    expect(again.body).toEqual(first.body);
    const burst = await Promise.all(Array.from({ length: 5 }, () => h.verify(c, me.token)));
    for (const r of burst) expect(r).toMatchObject({ status: 200, body: first.body });

    const b = await h.billOf(desk, me.patientId, billId);
    expect(b).toMatchObject({ paid: 7_500, status: 'paid' });
    expect(b.payments).toHaveLength(1);
    const tx = await stack.api('GET', `/api/billing/transactions?billId=${billId}`, undefined, desk);
    expect(tx.body.items).toEqual([expect.objectContaining({ amount: 7_500, method: 'online', providerPaymentId: c.razorpay_payment_id })]);

    // Another payment on the same, paid order is refused and flagged for a refund.
    const second = provider.checkout(o.body.providerOrderId);
    const dup = await h.verify(second, me.token);
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_MISMATCH', message: expect.stringMatching(/already paid by payment .*refund it at the payment provider/) } } });
    // And no new order for a settled bill.
    expect(await h.order(billId, me.token)).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_REFUSED', message: 'the bill is already paid' } } });
    expect((await h.billOf(desk, me.patientId, billId)).payments).toHaveLength(1);
  });

  it('refuses an unknown order (404) and an order whose bill was settled meanwhile (409, nothing recorded)', async () => {
    const me = await h.patient();
    const fake = provider.checkout('order_NotOneOfOurs01');
    expect(await h.verify(fake, me.token)).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });

    const billId = await h.bill(desk, me.patientId, 3_000);
    const o = await h.order(billId, me.token);
    // The desk takes the whole bill in cash while the patient is at the checkout.
    expect((await h.pay(billId, { amount: 3_000, method: 'cash' }, desk)).status).toBe(200);
    const late = await h.verify(provider.checkout(o.body.providerOrderId), me.token);
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_REFUSED', message: expect.stringMatching(/^the bill is already paid: payment .* was not recorded — refund it/) } } });
    const b = await h.billOf(desk, me.patientId, billId);
    expect(b.payments.map((p: { method: string }) => p.method)).toEqual(['cash']);
  });

  it("does not let a patient open or confirm an order for someone else's bill", async () => {
    const me = await h.patient();
    const other = await h.patient();
    const theirs = await h.bill(desk, other.patientId, 4_000);
    expect(await h.order(theirs, me.token)).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
    // Their order, even with a genuine confirmation in hand, is not mine to hand in.
    const o = await h.order(theirs, other.token);
    expect(o.status).toBe(201);
    expect(await h.verify(provider.checkout(o.body.providerOrderId), me.token)).toMatchObject({ status: 404 });
    expect((await h.billOf(desk, other.patientId, theirs)).payments).toEqual([]);
    // The front desk may open one for any bill.
    expect((await h.order(theirs, desk)).status).toBe(200);
  });

  it('keeps /pay for the front desk: a patient may not record any method, online is never recorded there', async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 1_000);
    for (const method of ['online', 'cash', 'card']) {
      const r = await h.pay(billId, { amount: 1_000, method }, me.token);
      expect(r.status, `${method}: ${JSON.stringify(r.body)}`).toBe(403);
      expect(r.body.error.message).toMatch(/POST \/api\/billing\/\{billId\}\/orders/);
    }
    const online = await h.pay(billId, { amount: 1_000, method: 'online' }, desk);
    expect(online).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: expect.stringMatching(/online payments are confirmed by the payment provider/) } } });
    expect((await h.pay(billId, { amount: 1_000, method: 'cash' }, stack.adminToken)).status).toBe(403);
    expect((await h.billOf(desk, me.patientId, billId)).payments).toEqual([]);

    const cash = await h.pay(billId, { amount: 400, method: 'cash' }, desk);
    expect(cash).toMatchObject({ status: 200, body: { payment: { amount: 400, method: 'cash' }, bill: { paid: 400, status: 'partial' } } });
    const card = await h.pay(billId, { amount: 600, method: 'card' }, desk);
    expect(card.body.bill).toMatchObject({ paid: 1_000, status: 'paid' });
  });

  it('answers 502 with a clear message when the provider fails, times out or answers wrong', async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 2_000);
    try {
      provider.mode = 'error';
      expect(await h.order(billId, me.token)).toMatchObject({ status: 502, body: { error: { code: 'ERR_PAYMENT_PROVIDER', message: expect.stringMatching(/refused the order \(HTTP 500: We are facing some trouble/) } } });
      provider.mode = 'hang';
      expect(await h.order(billId, me.token)).toMatchObject({ status: 502, body: { error: { message: 'the payment provider did not answer within 500 ms: no order was made, try again' } } });
      provider.mode = 'wrong-amount';
      expect(await h.order(billId, me.token)).toMatchObject({ status: 502, body: { error: { message: expect.stringMatching(/returned an order for 1999, not the 2000 asked for/) } } });
    } finally {
      provider.mode = 'ok';
    }
    // The provider's own refusal (its minimum amount) is passed on, never a 500.
    const tiny = await h.bill(desk, me.patientId, 50);
    expect(await h.order(tiny, me.token)).toMatchObject({ status: 502, body: { error: { message: expect.stringMatching(/HTTP 400: The amount must be atleast EUR 1.00/) } } });
    // Nothing was stored for the failed attempts; the next one works.
    expect((await h.order(billId, me.token)).status).toBe(201);
  });

  it('records a payment from the signed webhook, idempotent with the checkout confirmation', async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 6_000);
    const o = await h.order(billId, me.token);
    const c = provider.checkout(o.body.providerOrderId);
    const ids = { orderId: c.razorpay_order_id, paymentId: c.razorpay_payment_id, amount: 6_000, currency: 'EUR' };

    // A tampered body, a missing signature: refused, nothing recorded.
    const captured = provider.webhook('payment.captured', ids);
    const tampered = await h.post('/api/billing/payments/webhook', captured.body.replace('"amount":6000', '"amount":6001'), null, { 'x-razorpay-signature': captured.signature });
    expect(tampered).toMatchObject({ status: 400, body: { error: { code: 'ERR_BAD_SIGNATURE', message: expect.stringMatching(/^header X-Razorpay-Signature: does not match/) } } });
    expect((await h.post('/api/billing/payments/webhook', captured.body, null)).status).toBe(400);
    expect((await h.billOf(desk, me.patientId, billId)).payments).toEqual([]);

    // An event that proves no payment is acknowledged and ignored.
    const failed = provider.webhook('payment.failed', ids);
    expect(await h.post('/api/billing/payments/webhook', failed.body, null, { 'x-razorpay-signature': failed.signature })).toMatchObject({ status: 200, body: { recorded: false } });

    const hook = await h.post('/api/billing/payments/webhook', captured.body, null, { 'x-razorpay-signature': captured.signature });
    expect(hook).toMatchObject({ status: 200, body: { received: true, recorded: true, payment: { amount: 6_000, method: 'online', providerPaymentId: ids.paymentId, createdBy: null }, bill: { status: 'paid' } } });
    // The provider retries, sends order.paid as well, and the browser's confirmation arrives last.
    expect(await h.post('/api/billing/payments/webhook', captured.body, null, { 'x-razorpay-signature': captured.signature })).toMatchObject({ status: 200, replayed: 'true', body: { recorded: false } });
    const orderPaid = provider.webhook('order.paid', ids);
    expect(await h.post('/api/billing/payments/webhook', orderPaid.body, null, { 'x-razorpay-signature': orderPaid.signature })).toMatchObject({ status: 200, body: { recorded: false, payment: { id: hook.body.payment.id } } });
    const browser = await h.verify(c, me.token);
    expect(browser).toMatchObject({ status: 200, replayed: 'true', body: { payment: { id: hook.body.payment.id } } });
    const b = await h.billOf(desk, me.patientId, billId);
    expect(b).toMatchObject({ paid: 6_000, status: 'paid' });
    expect(b.payments).toHaveLength(1);
  });

  it('refuses hostile webhook deliveries without recording anything', async () => {
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 8_000);
    const o = await h.order(billId, me.token);
    const hook = (body: string, signature: string, headers: Record<string, string> = {}) => h.post('/api/billing/payments/webhook', body, null, { 'x-razorpay-signature': signature, ...headers });
    const sign = (body: string) => createHmac('sha256', provider.webhookSecret).update(body).digest('hex');

    // Signed by the provider but not JSON: a precise 400, not a 500.
    expect(await hook('not json', sign('not json'))).toMatchObject({ status: 400, body: { error: { code: 'ERR_BAD_JSON' } } });
    // A genuine event whose amount is not its order's: refused, for the desk to reconcile.
    const wrong = provider.webhook('payment.captured', { orderId: o.body.providerOrderId, paymentId: 'pay_WrongAmount001', amount: 1, currency: 'EUR' });
    expect(await hook(wrong.body, wrong.signature)).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_MISMATCH', message: expect.stringMatching(/is for 1 EUR, its order .* for 8000 EUR: not recorded/) } } });
    // An order this server did not make: acknowledged, ignored.
    const stranger = provider.webhook('payment.captured', { orderId: 'order_SomeoneElse01', paymentId: 'pay_SomeoneElse01', amount: 8_000, currency: 'EUR' });
    expect(await hook(stranger.body, stranger.signature)).toMatchObject({ status: 200, body: { recorded: false } });
    // Bigger than the limit: 413 before any signature work.
    const big = JSON.stringify({ event: 'payment.captured', pad: 'x'.repeat(300_000) });
    expect((await hook(big, sign(big))).status).toBe(413);
    // The checkout secret does not sign webhooks, nor the webhook secret checkouts.
    const c = provider.checkout(o.body.providerOrderId);
    const captured = provider.webhook('payment.captured', { orderId: c.razorpay_order_id, paymentId: c.razorpay_payment_id, amount: 8_000, currency: 'EUR' });
    expect((await hook(captured.body, createHmac('sha256', provider.keySecret).update(captured.body).digest('hex'))).status).toBe(400);
    const crossed = createHmac('sha256', provider.webhookSecret).update(`${c.razorpay_order_id}|${c.razorpay_payment_id}`).digest('hex');
    expect((await h.verify({ ...c, razorpay_signature: crossed }, me.token)).status).toBe(400);
    // Ids that are not the provider's form never reach the database.
    expect((await h.verify({ ...c, razorpay_order_id: "order_x' OR '1'='1" }, me.token)).status).toBe(400);
    expect((await h.billOf(desk, me.patientId, billId)).payments).toEqual([]);
  });
});

describe('online payment without provider settings', () => {
  let stack: Stack;
  const h = helpers(() => stack);
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(async () => stack?.close());

  it('is off with a clear message; the desk still takes cash', async () => {
    const desk = await h.staff('front-desk');
    const me = await h.patient();
    const billId = await h.bill(desk, me.patientId, 2_500);
    const off = await h.order(billId, me.token);
    expect(off).toMatchObject({ status: 503, body: { error: { code: 'ERR_UNAVAILABLE', message: expect.stringMatching(/^online payment is not configured on this server/) } } });
    const verify = await h.verify({ razorpay_order_id: 'order_X', razorpay_payment_id: 'pay_X', razorpay_signature: 'a'.repeat(64) }, me.token);
    expect(verify).toMatchObject({ status: 503, body: { error: { message: expect.stringMatching(/^online payment is not configured/) } } });
    const hook = await h.post('/api/billing/payments/webhook', '{"event":"payment.captured"}', null, { 'x-razorpay-signature': 'a'.repeat(64) });
    expect(hook).toMatchObject({ status: 404, body: { error: { message: expect.stringMatching(/payment webhook is off/) } } });
    // Still: a patient may not record a payment themself.
    expect((await h.pay(billId, { amount: 2_500, method: 'online' }, me.token)).status).toBe(403);
    expect((await h.pay(billId, { amount: 2_500, method: 'cash' }, desk)).body.bill).toMatchObject({ status: 'paid' });
  });
});
