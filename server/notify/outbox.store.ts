// The notifications outbox (db/migrations/015_notifications.sql): every SQL statement of it. A
// notification is enqueued as a row — inside the caller's transaction where there is one — and
// sent later by the sender (sender.ts), which claims due rows, one node and one loop at a time per
// row, and records the outcome of each attempt.
import { randomUUID } from 'node:crypto';
import type { Driver, Queryable } from '../../db/driver.ts';
import { Where, isoAt, page, type Page } from '../../db/rows.ts';
import { PATIENT_KINDS, type Message, type NotificationKind, type PatientKind } from './messages.ts';

export type NotificationStatus = 'pending' | 'sending' | 'sent' | 'failed';
export type Channel = 'email' | 'sms';

export interface Notification {
  id: string;
  kind: NotificationKind;
  channel: Channel;
  recipient: string;
  subject: string;
  body: string;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  patientId: string | null;
  appointmentId: string | null;
  alertId: string | null;
}

const COLUMNS = 'id, kind, channel, recipient, subject, body, status, attempts, next_attempt_at, last_error, created_at, sent_at, patient_id, appointment_id, alert_id';

const toNotification = (r: Record<string, unknown>): Notification => ({
  id: r.id as string,
  kind: r.kind as NotificationKind,
  channel: r.channel as Channel,
  recipient: r.recipient as string,
  subject: r.subject as string,
  body: r.body as string,
  status: r.status as NotificationStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: r.status === 'pending' || r.status === 'sending' ? isoAt(r.next_attempt_at) : null,
  lastError: (r.last_error as string | null) ?? null,
  createdAt: isoAt(r.created_at),
  sentAt: r.sent_at ? isoAt(r.sent_at) : null,
  patientId: (r.patient_id as string | null) ?? null,
  appointmentId: (r.appointment_id as string | null) ?? null,
  alertId: (r.alert_id as string | null) ?? null,
});

/** A message to a patient about one of their appointments. */
export interface PatientNotice {
  kind: PatientKind;
  patientId: string;
  appointmentId: string | null;
  message: Message;
  /** Enqueued at most once per key (a reminder: per appointment and slot). */
  dedupeKey?: string;
}

/**
 * Enqueue `n` to the patient's e-mail address (or, `sms`, phone number), in `db` (the change's
 * transaction): nothing when the patient has none or opted out of this kind — decided by the same
 * statement, so an opt-out committed before the change is always respected. True when a row was
 * written. An SMS carries the message's subject as its text.
 */
export async function enqueueForPatient(db: Queryable, n: PatientNotice, channel: Channel = 'email'): Promise<boolean> {
  const column = channel === 'sms' ? 'p.phone' : 'p.email';
  const { rowCount } = await db.query(
    `INSERT INTO notifications (id, kind, channel, recipient, subject, body, patient_id, appointment_id, dedupe_key)
     SELECT $1, $2, $8, ${column}, $3, $4, p.id, $6, $7 FROM patients p
     WHERE p.id = $5 AND ${column} IS NOT NULL AND ${column} <> ''
       AND NOT EXISTS (SELECT 1 FROM notification_preferences np WHERE np.patient_id = p.id AND np.kind = $2 AND NOT np.enabled)
     ON CONFLICT ON CONSTRAINT notifications_dedupe DO NOTHING`,
    [randomUUID(), n.kind, n.message.subject, channel === 'sms' ? n.message.subject : n.message.body, n.patientId, n.appointmentId, n.dedupeKey ? (channel === 'sms' ? `${n.dedupeKey}:sms` : n.dedupeKey) : null, channel],
  );
  return rowCount > 0;
}

/** Enqueue a message to a staff address (on call); once per `dedupeKey`. */
export async function enqueueForStaff(db: Queryable, n: { kind: NotificationKind; recipient: string; message: Message; alertId: string | null; patientId: string | null; dedupeKey: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO notifications (id, kind, channel, recipient, subject, body, alert_id, patient_id, dedupe_key)
     VALUES ($1, $2, 'email', $3, $4, $5, $6, $7, $8) ON CONFLICT ON CONSTRAINT notifications_dedupe DO NOTHING`,
    [randomUUID(), n.kind, n.recipient, n.message.subject, n.message.body, n.alertId, n.patientId, n.dedupeKey],
  );
  return rowCount > 0;
}

/**
 * Claim up to `limit` due rows for sending: pending ones whose time has come, and 'sending' ones
 * whose lease ran out (their sender died). The claim is one UPDATE over rows locked with SKIP
 * LOCKED, so concurrent senders (loops, nodes) never claim the same row; `attempts` counts the
 * attempt now starting.
 */
export async function claimDue(db: Queryable, limit: number, leaseMs: number): Promise<Notification[]> {
  const { rows } = await db.query(
    `UPDATE notifications SET status = 'sending', attempts = attempts + 1, lease_until = now() + $2 * interval '1 millisecond'
     WHERE id IN (
       SELECT id FROM notifications
       WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'sending' AND lease_until < now())
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit, leaseMs],
  );
  return rows.map(toNotification);
}

/** The attempt succeeded: sent, recorded. Only a row still held by this claim moves. */
export async function markSent(db: Driver, n: Notification): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`UPDATE notifications SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL WHERE id = $1 AND status = 'sending' AND attempts = $2`, [n.id, n.attempts]);
    await tx.query('INSERT INTO notification_deliveries (notification_id, attempt, ok) VALUES ($1, $2, true)', [n.id, n.attempts]);
  });
}

/** The attempt failed: pending again after `retryInMs`, or failed for good (`final`). Recorded. */
export async function markFailed(db: Driver, n: Notification, error: string, retryInMs: number | null): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `UPDATE notifications SET status = $3, last_error = $4, lease_until = NULL,
         next_attempt_at = CASE WHEN $5::bigint IS NULL THEN next_attempt_at ELSE now() + $5::bigint * interval '1 millisecond' END
       WHERE id = $1 AND status = 'sending' AND attempts = $2`,
      [n.id, n.attempts, retryInMs === null ? 'failed' : 'pending', error.slice(0, 1000), retryInMs],
    );
    await tx.query('INSERT INTO notification_deliveries (notification_id, attempt, ok, error) VALUES ($1, $2, false, $3)', [n.id, n.attempts, error.slice(0, 1000)]);
  });
}

/** A claimed row not attempted (the sender is closing): pending again, the attempt not counted. */
export async function releaseClaim(db: Queryable, n: Notification): Promise<void> {
  await db.query(`UPDATE notifications SET status = 'pending', attempts = attempts - 1, lease_until = NULL WHERE id = $1 AND status = 'sending' AND attempts = $2`, [n.id, n.attempts]);
}

export interface NotificationFilter {
  status?: NotificationStatus;
  kind?: string;
  patientId?: string;
  limit: number;
  offset: number;
}

/** The outbox, newest first, with each row's delivery attempts. */
export async function listNotifications(db: Queryable, f: NotificationFilter): Promise<Page<Notification & { deliveries: { attempt: number; at: string; ok: boolean; error: string | null }[] }>> {
  const where = new Where().when(f.status, 'status = ?').when(f.kind, 'kind = ?').when(f.patientId, 'patient_id = ?');
  const result = await page(db, { columns: COLUMNS, from: 'notifications', where, orderBy: 'created_at DESC, id', limit: f.limit, offset: f.offset }, toNotification);
  const ids = result.items.map((n) => n.id);
  const { rows } = ids.length
    ? await db.query<{ notification_id: string; attempt: number; at: unknown; ok: boolean; error: string | null }>(
        'SELECT notification_id, attempt, at, ok, error FROM notification_deliveries WHERE notification_id = ANY($1::uuid[]) ORDER BY id',
        [ids],
      )
    : { rows: [] };
  return {
    ...result,
    items: result.items.map((n) => ({
      ...n,
      deliveries: rows.filter((r) => r.notification_id === n.id).map((r) => ({ attempt: Number(r.attempt), at: isoAt(r.at), ok: r.ok, error: r.error })),
    })),
  };
}

/** A patient's preferences: every kind, on unless opted out. */
export async function preferencesOf(db: Queryable, patientId: string): Promise<Record<PatientKind, boolean>> {
  const { rows } = await db.query<{ kind: string; enabled: boolean }>('SELECT kind, enabled FROM notification_preferences WHERE patient_id = $1', [patientId]);
  const prefs = Object.fromEntries(PATIENT_KINDS.map((k) => [k, true])) as Record<PatientKind, boolean>;
  for (const r of rows) if ((PATIENT_KINDS as readonly string[]).includes(r.kind)) prefs[r.kind as PatientKind] = r.enabled;
  return prefs;
}

export async function setPreferences(db: Queryable, patientId: string, changes: Partial<Record<PatientKind, boolean>>): Promise<Record<PatientKind, boolean>> {
  for (const [kind, enabled] of Object.entries(changes)) {
    await db.query(
      `INSERT INTO notification_preferences (patient_id, kind, enabled) VALUES ($1, $2, $3)
       ON CONFLICT (patient_id, kind) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`,
      [patientId, kind, enabled],
    );
  }
  return preferencesOf(db, patientId);
}
