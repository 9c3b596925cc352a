// Escalations to pagers and SMS gateways: a signed HTTP webhook. Each delivery is retried with
// exponential backoff, and every attempt — success or failure — is recorded.
//   X-WardPulse-Timestamp: <epoch seconds>
//   X-WardPulse-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Escalation } from '../domain/alarms.ts';
import { toAlertEvent } from '../realtime/events.ts';
import type { NotificationAttempt } from '../../db/vitals-store.ts';

export function signPayload(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** For receivers (and tests): constant-time check of a signature. */
export function verifySignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface WebhookOptions {
  url: string;
  secret: string;
  log: Logger;
  record(attempt: NotificationAttempt): void;
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

export interface Webhook {
  send(e: Escalation): void;
  /** Wait for deliveries in flight (bounded), then stop retrying. */
  close(waitMs?: number): Promise<void>;
}

export function createWebhook(opts: WebhookOptions): Webhook {
  const maxAttempts = opts.maxAttempts ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  async function deliver(e: Escalation): Promise<void> {
    const body = JSON.stringify({
      type: 'alarm.escalation',
      level: e.level,
      role: e.role,
      at: new Date(e.at).toISOString(),
      alarm: toAlertEvent(e.alarm),
    });
    for (let attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-wardpulse-timestamp': timestamp,
            'x-wardpulse-signature': signPayload(opts.secret, timestamp, body),
            'x-wardpulse-delivery': `${e.alarm.id}:${e.level}`,
          },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) error = `HTTP ${res.status}`;
      } catch (err) {
        error = (err as Error).message;
      }
      const ok = error === null;
      opts.record({ alertId: e.alarm.id, level: e.level, role: e.role, channel: 'webhook', target: opts.url, attempt, at: Date.now(), ok, status, error });
      if (ok) return;
      // A 4xx other than 408/429 will not get better by retrying.
      if (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429) break;
      if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (attempt - 1)));
    }
    opts.log.error({ alarmId: e.alarm.id, level: e.level }, 'escalation webhook not delivered');
  }

  return {
    send(e) {
      if (closed) return;
      const p = deliver(e).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async close(waitMs = 5000) {
      await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, waitMs))]);
      closed = true;
    },
  };
}
