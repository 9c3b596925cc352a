// A local stand-in for a Razorpay-style payment provider, on a real HTTP port (node:http, port 0).
// It does what the real one does at the two points WardPulse meets it:
// - POST /v1/orders (Orders API): HTTP Basic auth with the key id and key secret, a JSON body
//   { amount (smallest currency unit), currency, receipt (≤ 40 chars), notes }; answers the order
//   { id: 'order_…', entity: 'order', amount, amount_paid, amount_due, currency, receipt, status:
//   'created', … }, or Razorpay's error body { error: { code, description } } with 400/401;
// - the checkout: paying an order yields { razorpay_order_id, razorpay_payment_id,
//   razorpay_signature } with the signature hex HMAC-SHA256(key secret, `${order_id}|${payment_id}`),
//   and the webhook body signed in X-Razorpay-Signature as hex HMAC-SHA256(webhook secret, raw body).
// Computed here with node:crypto directly — not with the server's code — so a server that signed
// or checked differently would fail against it.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReceivedOrder {
  authorization: string | undefined;
  body: { amount: number; currency: string; receipt?: string; notes?: Record<string, string> };
}

export interface FakeProvider {
  url: string;
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  /** Every accepted order request, in order. */
  orders: ReceivedOrder[];
  /** What /v1/orders does next: answer, fail with a 500, hang past any timeout, or lie about the amount. */
  mode: 'ok' | 'error' | 'hang' | 'wrong-amount';
  /** The customer pays `orderId` at the checkout: what the checkout hands the browser. */
  checkout(orderId: string): { razorpay_order_id: string; razorpay_payment_id: string; razorpay_signature: string };
  /** A webhook delivery for a captured payment: the raw body and its signature header. */
  webhook(event: 'payment.captured' | 'order.paid' | 'payment.failed', p: { orderId: string; paymentId: string; amount: number; currency: string }): { body: string; signature: string };
  close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('base64url').replace(/[-_]/g, 'x').slice(0, 14)}`;
const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const keyId = `rzp_test_${randomBytes(7).toString('hex')}`;
  const keySecret = randomBytes(18).toString('base64url');
  const webhookSecret = randomBytes(18).toString('base64url');
  const expectedAuth = `Basic ${Buffer.from(`${keyId}:${keySecret}`).toString('base64')}`;
  const hanging = new Set<() => void>();

  const fail = (res: import('node:http').ServerResponse, status: number, description: string, field?: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'BAD_REQUEST_ERROR', description, source: 'business', step: 'payment_initiation', reason: 'input_validation_failed', metadata: {}, field: field ?? null } }));
  };

  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/orders') return fail(res, 404, 'The requested URL was not found on the server.');
    const text = await readBody(req);
    if (req.headers.authorization !== expectedAuth) return fail(res, 401, 'Authentication failed');
    let body: ReceivedOrder['body'];
    try {
      body = JSON.parse(text);
    } catch {
      return fail(res, 400, 'The request body is not valid JSON');
    }
    if (provider.mode === 'error') return fail(res, 500, 'We are facing some trouble completing your request at the moment. Please try again shortly.');
    if (provider.mode === 'hang') {
      await new Promise<void>((resolve) => {
        hanging.add(resolve);
        setTimeout(resolve, 5000).unref();
      });
      if (!res.writableEnded) fail(res, 504, 'gateway timeout');
      return;
    }
    if (!Number.isInteger(body.amount)) return fail(res, 400, 'The amount must be an integer.', 'amount');
    if (body.amount < 100) return fail(res, 400, `The amount must be atleast ${body.currency} 1.00`, 'amount');
    if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency)) return fail(res, 400, 'The currency is invalid.', 'currency');
    if (body.receipt !== undefined && (typeof body.receipt !== 'string' || body.receipt.length > 40)) return fail(res, 400, 'The receipt may not be greater than 40 characters.', 'receipt');
    provider.orders.push({ authorization: req.headers.authorization, body });
    const amount = provider.mode === 'wrong-amount' ? body.amount - 1 : body.amount;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: id('order'),
        entity: 'order',
        amount,
        amount_paid: 0,
        amount_due: amount,
        currency: body.currency,
        receipt: body.receipt ?? null,
        offer_id: null,
        status: 'created',
        attempts: 0,
        notes: body.notes ?? [],
        created_at: Math.floor(Date.now() / 1000),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  const provider: FakeProvider = {
    url: `http://127.0.0.1:${port}`,
    keyId,
    keySecret,
    webhookSecret,
    orders: [],
    mode: 'ok',
    checkout(orderId) {
      const paymentId = id('pay');
      return { razorpay_order_id: orderId, razorpay_payment_id: paymentId, razorpay_signature: hmacHex(keySecret, `${orderId}|${paymentId}`) };
    },
    webhook(event, p) {
      const payment = { id: p.paymentId, entity: 'payment', amount: p.amount, currency: p.currency, status: event === 'payment.failed' ? 'failed' : 'captured', order_id: p.orderId, method: 'upi', captured: event !== 'payment.failed' };
      const payload =
        event === 'order.paid'
          ? { payment: { entity: payment }, order: { entity: { id: p.orderId, entity: 'order', amount: p.amount, amount_paid: p.amount, amount_due: 0, currency: p.currency, status: 'paid' } } }
          : { payment: { entity: payment } };
      const body = JSON.stringify({ entity: 'event', account_id: 'acc_Test0000000000', event, contains: Object.keys(payload), payload, created_at: Math.floor(Date.now() / 1000) });
      return { body, signature: hmacHex(webhookSecret, body) };
    },
    async close() {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return provider;
}
