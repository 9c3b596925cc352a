// The payment provider at the edge: its Orders API over HTTP, and the checks of its signatures
// with the secrets kept in this closure. Built once by the composition root (server/server.ts)
// from PAYMENT_* settings; without them there is no gateway and online payment is off.
import { z } from 'zod';
import { Errors } from '../errors.ts';
import { orderMatches, verifyPaymentSignature, verifyWebhookSignature, type SignatureCheck } from './payments.ts';

export interface PaymentSettings {
  /** Base URL; the Orders API is `{url}/v1/orders`. */
  url: string;
  keyId: string;
  keySecret: string;
  /** null: the webhook is off. */
  webhookSecret: string | null;
  /** ISO 4217 code of the account's currency: the bills this gateway may take payments for. */
  currency: string;
  timeoutMs: number;
}

export interface ProviderOrder {
  id: string;
  amount: number;
  currency: string;
  receipt: string | null;
  status: string;
}

export interface PaymentGateway {
  readonly currency: string;
  /** The key id a checkout page needs (public by design: it identifies the account, it proves nothing). */
  readonly keyId: string;
  readonly webhookEnabled: boolean;
  /** POST {url}/v1/orders; throws ERR_PAYMENT_PROVIDER (502) when the provider fails or answers wrong. */
  createOrder(o: { amount: number; currency: string; receipt: string; notes: Record<string, string> }): Promise<ProviderOrder>;
  verifyPayment(orderId: string, paymentId: string, signature: string | undefined): SignatureCheck;
  /** Never ok when the webhook is off. */
  verifyWebhook(rawBody: Buffer, signature: string | undefined): SignatureCheck;
}

const orderAnswer = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
  amount: z.number().int(),
  currency: z.string(),
  receipt: z.string().nullish(),
  status: z.string(),
});

export function createPaymentGateway(s: PaymentSettings, fetchImpl: typeof fetch = fetch): PaymentGateway {
  const ordersUrl = `${s.url.replace(/\/+$/, '')}/v1/orders`;
  // RFC 7617: Basic credentials are base64("user:password") — the provider's key id and secret.
  const authorization = `Basic ${Buffer.from(`${s.keyId}:${s.keySecret}`).toString('base64')}`;
  return {
    currency: s.currency,
    keyId: s.keyId,
    webhookEnabled: s.webhookSecret !== null,
    async createOrder(o) {
      let res: Response;
      try {
        res = await fetchImpl(ordersUrl, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(o),
          signal: AbortSignal.timeout(s.timeoutMs),
          redirect: 'error',
        });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError') throw Errors.paymentProvider(`the payment provider did not answer within ${s.timeoutMs} ms: no order was made, try again`);
        const cause = (e as { cause?: { code?: unknown } }).cause?.code;
        throw Errors.paymentProvider(`the payment provider could not be reached (${typeof cause === 'string' ? cause : e.message}): no order was made, try again`);
      }
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        // Razorpay's error body: { error: { code, description, field? } }. Its description is shown
        // (it names what was wrong); the key secret never appears in it.
        let why = '';
        try {
          const d = (JSON.parse(text) as { error?: { description?: unknown } }).error?.description;
          if (typeof d === 'string') why = `: ${d.slice(0, 200)}`;
        } catch {
          /* not JSON */
        }
        throw Errors.paymentProvider(`the payment provider refused the order (HTTP ${res.status}${why})`);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw Errors.paymentProvider('the payment provider answered with something that is not JSON');
      }
      const parsed = orderAnswer.safeParse(body);
      if (!parsed.success) throw Errors.paymentProvider('the payment provider answered without a usable order (id, amount, currency, status)');
      const wrong = orderMatches(o, parsed.data);
      if (wrong) throw Errors.paymentProvider(`the payment provider returned ${wrong}: not used`);
      return { ...parsed.data, receipt: parsed.data.receipt ?? null };
    },
    verifyPayment: (orderId, paymentId, signature) => verifyPaymentSignature(orderId, paymentId, signature, s.keySecret),
    verifyWebhook: (rawBody, signature) =>
      s.webhookSecret === null ? { ok: false, reason: 'the payment webhook is not configured (PAYMENT_WEBHOOK_SECRET)' } : verifyWebhookSignature(rawBody, signature, s.webhookSecret),
  };
}
