// Notifications (docs/architecture.md "Notifications"): the outbox's writers and its sender, made
// once by the composition root when SMTP_URL or SMS_WEBHOOK_URL is set. Patients' messages are enqueued by the
// appointment store inside its transactions (`enqueue`), reminders by a periodic scan, and staff
// messages for escalated alarms by the escalation notifier (sinks.ts). Without a channel nothing is
// enqueued (rows would only pile up) and this is not made at all.
import type { Logger } from 'pino';
import type { Driver, Queryable } from '../../db/driver.ts';
import type { Escalation } from '../domain/alarms.ts';
import { localNow } from '../records/appointments.ts';
import { appointmentMessage, escalationMessage, type Message, type StaffKind } from './messages.ts';
import { enqueueForPatient, enqueueForStaff, type Channel, type PatientNotice } from './outbox.store.ts';
import { startSender, type MailTransport, type Sender, type SmsTransport } from './sender.ts';

/** What a store that changes appointments needs: enqueue inside its transaction, then kick. */
export interface PatientNotifier {
  enqueue(tx: Queryable, n: PatientNotice): Promise<boolean>;
  /** A message to the on-call e-mail addresses of `role` (ONCALL_EMAILS), once per `key` and address. */
  onCall(tx: Queryable, n: { role: string; kind: StaffKind; message: Message; patientId: string | null; alertId: string | null; key: string }): Promise<void>;
  /** After the commit: the sender looks now rather than at its next poll. */
  kick(): void;
}

export interface Notifications extends PatientNotifier {
  /** An alarm escalated: a message to each on-call address of its role (ONCALL_EMAILS). */
  escalated(e: Escalation): void;
  /** Enqueue the reminders now due (also run every `reminderScanMs`); how many were enqueued. */
  scanReminders(): Promise<number>;
  close(): Promise<void>;
}

export interface NotificationsOptions {
  db: Driver;
  log: Logger;
  /** E-mail; null: off (SMS only). */
  transport: MailTransport | null;
  /** SMS; null: off. */
  sms: SmsTransport | null;
  /** The e-mail sender (MAIL_FROM); unused without e-mail. */
  from: string;
  onCall: Record<string, string[]>;
  reminderBeforeH: number;
  reminderScanMs: number;
  pollMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  maxAttempts: number;
  leaseMs: number;
}

export function createNotifications(opts: NotificationsOptions): Notifications {
  const { db, log } = opts;
  const domain = opts.from.split('@')[1]?.replace(/>.*$/, '') || 'wardpulse.local';
  const sender: Sender = startSender({ ...opts, messageIdDomain: domain });
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const channels: Channel[] = [...(opts.transport ? (['email'] as const) : []), ...(opts.sms ? (['sms'] as const) : [])];
  /** A patient's message on every channel that is on and that the patient has an address for. */
  async function enqueueAll(tx: Queryable, n: PatientNotice): Promise<boolean> {
    let any = false;
    for (const channel of channels) if (await enqueueForPatient(tx, n, channel)) any = true;
    return any;
  }

  async function escalate(e: Escalation): Promise<void> {
    const to = opts.transport ? (opts.onCall[e.role] ?? []) : [];
    if (to.length === 0) return;
    const { rows } = await db.query<{ ward: string | null; bed: string | null }>('SELECT ward, bed FROM patients WHERE id = $1', [e.alarm.patientId]);
    const message = escalationMessage({
      alarmId: e.alarm.id,
      level: e.level,
      role: e.role,
      priority: e.alarm.priority,
      kind: e.alarm.kind,
      message: e.alarm.message,
      ward: rows[0]?.ward ?? null,
      bed: rows[0]?.bed ?? null,
      at: e.at,
    });
    for (const recipient of to) {
      // One row per alarm, level and address, whichever node (or replay after a restart) escalates.
      await enqueueForStaff(db, { kind: 'alarm-escalated', recipient, message, alertId: e.alarm.id, patientId: e.alarm.patientId, dedupeKey: `escalation:${e.alarm.id}:${e.level}:${recipient}` });
    }
    sender.kick();
  }

  async function scanReminders(): Promise<number> {
    const now = localNow();
    const horizon = localNow(new Date(Date.now() + opts.reminderBeforeH * 3_600_000));
    // Appointment times are the clinic's local wall-clock times (appointments.ts localNow), so the
    // window is given in the same terms rather than computed in the database's time zone.
    const { rows } = await db.query<{ id: string; patient_id: string; patient_name: string; doctor_name: string; date: string; time: string; token_number: number }>(
      `SELECT a.id, a.patient_id, p.name AS patient_name, d.name AS doctor_name, a.date, to_char(a.time, 'HH24:MI') AS time, a.token_number
       FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN doctors d ON d.id = a.doctor_id
       WHERE a.status IN ('pending', 'confirmed') AND (p.email IS NOT NULL OR p.phone IS NOT NULL)
         AND (a.date + a.time) > $1::timestamp AND (a.date + a.time) <= $2::timestamp
         AND NOT EXISTS (SELECT 1 FROM notifications n, LATERAL (SELECT 'reminder:' || a.id || ':' || a.date || 'T' || to_char(a.time, 'HH24:MI') AS k) key
                         WHERE n.dedupe_key IN (key.k, key.k || ':sms'))
       ORDER BY a.date, a.time LIMIT 500`,
      [`${now.date} ${now.time}`, `${horizon.date} ${horizon.time}`],
    );
    let n = 0;
    for (const r of rows) {
      const facts = { patientName: r.patient_name, doctorName: r.doctor_name, date: r.date, time: r.time, tokenNumber: r.token_number };
      // Keyed by the slot: a rescheduled appointment is reminded of its new time, once.
      const queued = await enqueueAll(db, {
        kind: 'appointment-reminder',
        patientId: r.patient_id,
        appointmentId: r.id,
        message: appointmentMessage('appointment-reminder', facts),
        dedupeKey: `reminder:${r.id}:${r.date}T${r.time}`,
      });
      if (queued) n++;
    }
    if (n > 0) sender.kick();
    return n;
  }

  let closed = false;
  let scanTimer: NodeJS.Timeout | null = null;
  const scan = () => {
    if (closed) return;
    if (db.available()) track(scanReminders().catch((err: Error) => log.warn({ err: err.message }, 'reminder scan failed; will try again')));
    scanTimer = setTimeout(scan, opts.reminderScanMs);
  };
  scanTimer = setTimeout(scan, 0);

  return {
    enqueue: enqueueAll,
    async onCall(tx, n) {
      if (!opts.transport) return;
      for (const recipient of opts.onCall[n.role] ?? []) {
        await enqueueForStaff(tx, { kind: n.kind, recipient, message: n.message, alertId: n.alertId, patientId: n.patientId, dedupeKey: `${n.key}:${recipient}` });
      }
    },
    kick: () => sender.kick(),
    escalated(e) {
      if (closed) return;
      track(escalate(e).catch((err: Error) => log.error({ err: err.message, alarmId: e.alarm.id, level: e.level }, 'escalation e-mail not enqueued')));
    },
    scanReminders,
    async close() {
      closed = true;
      if (scanTimer) clearTimeout(scanTimer);
      await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 5000))]);
      await sender.close();
    },
  };
}
