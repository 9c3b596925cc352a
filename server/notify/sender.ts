// The outbox's sender: a loop that claims due rows (outbox.store.ts), hands each to its channel —
// e-mail over SMTP through nodemailer, SMS through a signed HTTP gateway — and records the outcome: sent, or pending again after a
// backoff (messages.ts backoffMs), or failed after the last attempt. It runs on every node of a
// cluster; the row claim keeps two senders off one row. Woken early by `kick()` after a commit.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Driver } from '../../db/driver.ts';
import { withoutCredentials } from '../config.ts';
import { signPayload } from './webhook.ts';
import { backoffMs } from './messages.ts';
import { claimDue, markFailed, markSent, releaseClaim, type Notification } from './outbox.store.ts';

/** What a channel needs to do: deliver one message or throw. */
export interface MailTransport {
  send(m: { from: string; to: string; subject: string; text: string; messageId: string }): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer. `url`: smtp:// or smtps://, credentials in it (never logged). */
export function smtpTransport(url: string, timeoutMs = 10_000): MailTransport {
  const t: Transporter = nodemailer.createTransport(url, { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs * 3 } as object);
  return {
    async send(m) {
      await t.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, messageId: m.messageId });
    },
    close: () => t.close(),
  };
}

/** An SMS gateway: deliver one text or throw. */
export interface SmsTransport {
  send(m: { id: string; to: string; text: string }): Promise<void>;
}

/**
 * SMS through an HTTP gateway, signed like the escalation webhook (webhook.ts): a POST of
 * `{ "type": "sms", "id", "to", "text" }` with X-WardPulse-Timestamp and X-WardPulse-Signature
 * (HMAC-SHA256 of "<timestamp>.<body>"); X-WardPulse-Delivery is the outbox row, the same on a
 * retry, so the gateway can drop a repeat. Any 2xx is delivered.
 */
export function smsWebhookTransport(url: string, secret: string, timeoutMs = 10_000): SmsTransport {
  return {
    async send(m) {
      const body = JSON.stringify({ type: 'sms', id: m.id, to: m.to, text: m.text });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-wardpulse-timestamp': timestamp, 'x-wardpulse-signature': signPayload(secret, timestamp, body), 'x-wardpulse-delivery': m.id },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`SMS gateway answered HTTP ${res.status}`);
    },
  };
}

export interface SenderOptions {
  db: Driver;
  /** E-mail (SMTP_URL); null: off. */
  transport: MailTransport | null;
  /** SMS (SMS_WEBHOOK_URL); null: off. */
  sms: SmsTransport | null;
  from: string;
  log: Logger;
  /** How often due rows are looked for without a kick. */
  pollMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  maxAttempts: number;
  /** How long a claim holds a row before another sender may take it (a crashed sender's rows). */
  leaseMs: number;
  batch?: number;
  /** The hospital's domain for Message-IDs (`<notification id>@domain`): a receiver can spot a repeat. */
  messageIdDomain: string;
}

export interface Sender {
  /** Look for due rows now (after a commit that enqueued one). */
  kick(): void;
  /** Stop claiming; wait (bounded) for the batch in flight. */
  close(waitMs?: number): Promise<void>;
}

class Unconfigured extends Error {}

export function startSender(opts: SenderOptions): Sender {
  const batch = opts.batch ?? 20;
  let closed = false;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;

  async function deliver(n: Notification): Promise<void> {
    try {
      if (n.channel === 'sms') {
        if (!opts.sms) throw new Unconfigured('SMS is not configured (SMS_WEBHOOK_URL)');
        await opts.sms.send({ id: n.id, to: n.recipient, text: n.body });
      } else {
        if (!opts.transport) throw new Unconfigured('e-mail is not configured (SMTP_URL)');
        await opts.transport.send({ from: opts.from, to: n.recipient, subject: n.subject, text: n.body, messageId: `<${n.id}@${opts.messageIdDomain}>` });
      }
    } catch (err) {
      // An SMTP error can quote the server's greeting or the URL: masked before it is stored or logged.
      const error = withoutCredentials((err as Error).message || String(err));
      // A channel turned off since the row was written will not come back by retrying.
      const final = n.attempts >= opts.maxAttempts || err instanceof Unconfigured;
      const retryIn = final ? null : backoffMs(n.attempts, opts.retryBaseMs, opts.retryCapMs);
      await markFailed(opts.db, n, error, retryIn);
      if (final) opts.log.error({ notificationId: n.id, kind: n.kind, attempts: n.attempts, error }, 'notification failed for good');
      else opts.log.warn({ notificationId: n.id, kind: n.kind, attempt: n.attempts, retryInMs: retryIn, error }, 'notification not sent; will retry');
      return;
    }
    await markSent(opts.db, n);
    opts.log.info({ notificationId: n.id, kind: n.kind, attempt: n.attempts }, 'notification sent');
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      if (!opts.db.available()) return;
      const due = await claimDue(opts.db, batch, opts.leaseMs);
      for (const n of due) {
        if (closed) await releaseClaim(opts.db, n);
        else await deliver(n);
      }
      if (due.length === batch) again = true;
    } while (again && !closed);
  }

  function run(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((err: Error) => opts.log.warn({ err: err.message }, 'notification sender: database not reachable; will try again'))
      .finally(() => {
        running = null;
        if (again && !closed) run();
      });
  }

  const tick = () => {
    run();
    if (!closed) timer = setTimeout(tick, opts.pollMs);
  };
  timer = setTimeout(tick, 0);

  return {
    kick: () => setImmediate(run),
    async close(waitMs = 5000) {
      closed = true;
      if (timer) clearTimeout(timer);
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, waitMs))]);
      opts.transport?.close();
    },
  };
}
