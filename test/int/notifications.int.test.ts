// Patients' notifications end to end: the real server on PostgreSQL sends through a real SMTP server
// started here (test/helpers/smtp.ts), whose received mails are parsed and checked, and through a
// signed SMS gateway (a local HTTP server). The outbox's
// promises are exercised for real: the mail server down (rows stay pending, each attempt recorded),
// the WardPulse server restarted meanwhile, the mail server back — each message arrives once.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { verifySignature } from '../../server/notify/webhook.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../helpers/smtp.ts';
import { insertUser } from '../../db/records.ts';
import { hashSecret } from '../../server/auth/passwords.ts';
import { addDays, localNow } from '../../server/records/appointments.ts';

const ALL_DAY = [0, 1, 2, 3, 4, 5, 6].map((d) => ({ dayOfWeek: d, startTime: '00:00', endTime: '23:45' }));
const PASSWORD = 'a-long-test-password';
const SMS_SECRET = 'sms-gateway-secret-0123';

describe('e-mail notifications through a real SMTP server (postgres)', () => {
  let stack: Stack;
  let smtp: TestSmtp;
  let doctorId: string;
  const day = (n: number) => addDays(localNow().date, n);
  let nextSlot = 0;
  /** A fresh slot three or more days ahead (outside the reminder window), 08:00 onwards. */
  const slot = () => {
    const i = nextSlot++;
    return { date: day(3 + Math.floor(i / 40)), time: `${String(8 + Math.floor((i % 40) / 4)).padStart(2, '0')}:${String((i % 4) * 15).padStart(2, '0')}` };
  };

  // An SMS gateway that refuses its first request (503), then accepts.
  const texts: { headers: IncomingHttpHeaders; body: string }[] = [];
  let gateway: Server;
  let refuseNext = true;

  beforeAll(async () => {
    smtp = await startSmtp();
    gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        texts.push({ headers: req.headers, body });
        if (refuseNext) {
          refuseNext = false;
          res.writeHead(503).end();
        } else res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', () => r()));
    stack = await startStack('postgres', inject('pgUrl'), {
      SMS_WEBHOOK_URL: `http://127.0.0.1:${(gateway.address() as { port: number }).port}/sms`,
      SMS_WEBHOOK_SECRET: SMS_SECRET,
      SMTP_URL: smtp.url,
      MAIL_FROM: 'WardPulse <noreply@hospital.test>',
      NOTIFY_POLL_MS: '100',
      NOTIFY_RETRY_BASE_MS: '200',
      NOTIFY_RETRY_MAX_MS: '400',
      REMINDER_SCAN_S: '1',
    });
    const d = await stack.api('POST', '/api/doctors', { name: 'Dr Grace Hopper', room: '3', slotMinutes: 15 });
    expect(d.status).toBe(201);
    doctorId = d.body.id;
    expect((await stack.api('PUT', `/api/doctors/${doctorId}/schedule`, { shifts: ALL_DAY, leave: [] })).status).toBe(200);
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.stop();
    gateway?.close();
  });

  async function patient(email: string | null, name = 'Ada Lovelace', phone: string | null = null): Promise<string> {
    const r = await stack.api('POST', '/api/patients', { name, email, phone });
    expect(r.status).toBe(201);
    return r.body.id;
  }
  async function patientAccount(patientId: string): Promise<string> {
    const id = randomUUID();
    const email = `account-${id.slice(0, 8)}@test.local`;
    await insertUser(stack.server.db.driver, { id, email, name: 'Patient', role: 'patient', passwordHash: await hashSecret(PASSWORD) });
    await stack.server.db.driver.query('UPDATE users SET patient_id = $2 WHERE id = $1', [id, patientId]);
    return stack.login(email, PASSWORD);
  }
  const mailsTo = (address: string) => smtp.mails.filter((m) => m.headers.to === address);
  const mailTo = (address: string, subject: RegExp): Promise<ReceivedMail> =>
    eventually(() => mailsTo(address).find((m) => subject.test(m.headers.subject ?? '')), 10_000, `a mail to ${address} with subject ${subject}`);
  const outbox = async (query: string) => {
    const r = await stack.api('GET', `/api/notifications?${query}`);
    expect(r.status).toBe(200);
    return r.body.items as any[];
  };

  it('booking, confirming, moving and cancelling an appointment each send the patient one mail', async () => {
    const to = `ada-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to);
    const s = slot();
    const booked = await stack.api('POST', '/api/appointments', { patientId, doctorId, ...s, reason: 'chest pain' });
    expect(booked.status).toBe(201);

    const mail = await mailTo(to, /^Appointment booked/);
    expect(mail.rcptTo).toEqual([to]);
    expect(mail.headers.from).toBe('WardPulse <noreply@hospital.test>');
    expect(mail.headers.subject).toBe(`Appointment booked: Dr Grace Hopper, ${s.date} at ${s.time}`);
    expect(mail.body).toContain('Dear Ada Lovelace,');
    expect(mail.body).toContain(`your appointment with Dr Grace Hopper is booked for ${s.date} at ${s.time}. Your token number is ${booked.body.tokenNumber}.`);
    expect(mail.body).not.toContain('chest pain'); // the visit reason stays out of e-mail

    expect((await stack.api('PUT', `/api/appointments/${booked.body.id}/confirm`)).status).toBe(200);
    const confirmed = await mailTo(to, /^Appointment confirmed/);
    expect(confirmed.body).toContain(`your appointment with Dr Grace Hopper on ${s.date} at ${s.time} is confirmed`);

    const moved = slot();
    expect((await stack.api('PUT', `/api/appointments/${booked.body.id}/reschedule`, moved)).status).toBe(200);
    const movedMail = await mailTo(to, /^Appointment moved/);
    expect(movedMail.body).toContain(`on ${s.date} at ${s.time} has been moved to ${moved.date} at ${moved.time}`);

    expect((await stack.api('PUT', `/api/appointments/${booked.body.id}/cancel`)).status).toBe(200);
    const cancelled = await mailTo(to, /^Appointment cancelled/);
    expect(cancelled.headers.subject).toBe(`Appointment cancelled: Dr Grace Hopper, ${moved.date} at ${moved.time}`);
    expect(mailsTo(to)).toHaveLength(4);

    // The outbox shows each row sent, after one attempt that succeeded.
    const rows = await eventually(async () => {
      const items = await outbox(`patientId=${patientId}`);
      return items.length === 4 && items.every((n) => n.status === 'sent') ? items : null;
    });
    expect(rows.map((n) => n.kind).sort()).toEqual(['appointment-booked', 'appointment-cancelled', 'appointment-confirmed', 'appointment-rescheduled']);
    for (const n of rows) {
      expect(n).toMatchObject({ channel: 'email', recipient: to, attempts: 1, lastError: null, appointmentId: booked.body.id });
      expect(n.deliveries).toMatchObject([{ attempt: 1, ok: true, error: null }]);
      expect(n.sentAt).not.toBeNull();
    }
    // A message's Message-ID is its outbox row: a receiver can tell a repeat.
    expect(mail.headers['message-id']).toMatch(/^<[0-9a-f-]{36}@hospital\.test>$/);
  });

  it('with a phone number, the same message also goes out as a signed SMS, retried after the gateway refused it', async () => {
    const to = `sam-${randomUUID().slice(0, 6)}@example.org`;
    const phone = '+44 7700 900123';
    const patientId = await patient(to, 'Sam Sms', phone);
    const s = slot();
    const booked = await stack.api('POST', '/api/appointments', { patientId, doctorId, ...s });
    expect(booked.status).toBe(201);
    await mailTo(to, /^Appointment booked/);
    const sms = await eventually(() => {
      const got = texts.filter((t) => JSON.parse(t.body).to === phone);
      return got.length >= 2 ? got : null;
    }, 10_000, 'the SMS, refused once then accepted');
    const [first, second] = sms;
    expect(JSON.parse(second!.body)).toEqual({ type: 'sms', id: expect.any(String), to: phone, text: `Appointment booked: Dr Grace Hopper, ${s.date} at ${s.time}` });
    expect(second!.body).toBe(first!.body); // the retry is the same text, the same delivery id
    expect(second!.headers['x-wardpulse-delivery']).toBe(JSON.parse(second!.body).id);
    const ts = String(second!.headers['x-wardpulse-timestamp']);
    expect(verifySignature(SMS_SECRET, ts, second!.body, String(second!.headers['x-wardpulse-signature']))).toBe(true);
    expect(verifySignature('another-secret-of-16', ts, second!.body, String(second!.headers['x-wardpulse-signature']))).toBe(false);

    const rows = await eventually(async () => {
      const items = await outbox(`patientId=${patientId}`);
      return items.length === 2 && items.every((n) => n.status === 'sent') ? items : null;
    });
    const smsRow = rows.find((n) => n.channel === 'sms');
    expect(smsRow).toMatchObject({ recipient: phone, attempts: 2, deliveries: [{ attempt: 1, ok: false, error: 'SMS gateway answered HTTP 503' }, { attempt: 2, ok: true }] });
    expect(rows.find((n) => n.channel === 'email')).toMatchObject({ recipient: to, attempts: 1 });
  });

  it('a refused booking enqueues nothing; a patient without an e-mail address gets no row', async () => {
    const to = `bob-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Bob Byte');
    const s = slot();
    expect((await stack.api('POST', '/api/appointments', { patientId, doctorId, ...s })).status).toBe(201);
    const other = await patient(to.replace('bob', 'carol'), 'Carol Code');
    expect((await stack.api('POST', '/api/appointments', { patientId: other, doctorId, ...s })).status).toBe(409); // slot taken
    const noAddress = await patient(null, 'Dan Dark');
    expect((await stack.api('POST', '/api/appointments', { patientId: noAddress, doctorId, ...slot() })).status).toBe(201);
    await mailTo(to, /^Appointment booked/);
    expect(await outbox(`patientId=${other}`)).toEqual([]);
    expect(await outbox(`patientId=${noAddress}`)).toEqual([]);
  });

  it('a patient opts out per kind (PUT /api/me/notifications): that kind is not sent, others are', async () => {
    const to = `eve-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Eve Opt');
    const token = await patientAccount(patientId);
    const defaults = await stack.api('GET', '/api/me/notifications', undefined, token);
    expect(defaults.status).toBe(200);
    expect(defaults.body).toEqual({ 'appointment-booked': true, 'appointment-confirmed': true, 'appointment-rescheduled': true, 'appointment-cancelled': true, 'appointment-reminder': true, 'lab-results-released': true, 'bill-receipt': true });
    const put = await stack.api('PUT', '/api/me/notifications', { 'appointment-booked': false }, token);
    expect(put.status).toBe(200);
    expect(put.body['appointment-booked']).toBe(false);
    expect(put.body['appointment-cancelled']).toBe(true);
    expect((await stack.api('PUT', '/api/me/notifications', { 'appointment-booked': 'no' }, token)).status).toBe(400);
    expect((await stack.api('PUT', '/api/me/notifications', { 'sms-everything': false }, token)).status).toBe(400);
    expect((await stack.api('PUT', '/api/me/notifications', { 'appointment-booked': false })).status).toBe(403); // staff: no preferences

    const booked = await stack.api('POST', '/api/appointments', { patientId, doctorId, ...slot() }, token);
    expect(booked.status).toBe(201);
    expect((await stack.api('PUT', `/api/appointments/${booked.body.id}/cancel`, undefined, token)).status).toBe(200);
    // The cancellation is sent after the booking would have been: once it is here, the booking was skipped.
    await mailTo(to, /^Appointment cancelled/);
    expect(mailsTo(to).map((m) => m.headers.subject)).toEqual([expect.stringMatching(/^Appointment cancelled/)]);
    expect((await outbox(`patientId=${patientId}`)).map((n) => n.kind)).toEqual(['appointment-cancelled']);
  });

  it('a reminder is sent once for an appointment within REMINDER_BEFORE_H', async () => {
    const to = `rem-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Rita Remind');
    // A few hours from now, on the 15-minute grid (maybe tomorrow), inside the 00:00–23:45 schedule.
    const s = [2, 6, 12]
      .map((h) => {
        const at = new Date(Date.now() + h * 3_600_000);
        at.setMinutes(Math.ceil(at.getMinutes() / 15) * 15, 0, 0);
        return localNow(at);
      })
      .find((c) => c.time <= '23:30')!;
    const booked = await stack.api('POST', '/api/appointments', { patientId, doctorId, ...s });
    expect(booked.status).toBe(201);
    const reminder = await mailTo(to, /^Reminder: appointment/);
    expect(reminder.body).toContain(`this is a reminder of your appointment with Dr Grace Hopper on ${s.date} at ${s.time}`);
    // Several scans later (REMINDER_SCAN_S=1), still one reminder.
    await new Promise((r) => setTimeout(r, 2500));
    expect(mailsTo(to).filter((m) => /^Reminder/.test(m.headers.subject ?? ''))).toHaveLength(1);
  });

  it('mail server down: the row stays pending with each attempt recorded; across a restart, it is sent once when the server is back', async () => {
    const to = `out-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Olga Outage');
    await smtp.stop();
    const booked = await stack.api('POST', '/api/appointments', { patientId, doctorId, ...slot() });
    expect(booked.status).toBe(201); // the booking does not wait for the mail

    const failing = await eventually(async () => {
      const [n] = await outbox(`patientId=${patientId}`);
      return n && n.status === 'pending' && n.attempts >= 2 ? n : null;
    }, 10_000, 'two failed attempts');
    expect(failing.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(failing.lastError).not.toContain('smtp-test-password');
    expect(failing.deliveries.length).toBe(failing.attempts);
    expect(failing.deliveries.every((d: any) => d.ok === false && d.error)).toBe(true);
    expect(failing.deliveries.map((d: any) => d.attempt)).toEqual(failing.deliveries.map((_: unknown, i: number) => i + 1));

    // WardPulse restarts while the mail server is still down; then the mail server comes back.
    await stack.restart();
    await smtp.start();
    const mail = await mailTo(to, /^Appointment booked/);
    expect(mail.body).toContain('Olga Outage');
    const sent = await eventually(async () => {
      const [n] = await outbox(`patientId=${patientId}`);
      return n?.status === 'sent' ? n : null;
    });
    expect(sent.deliveries.at(-1)).toMatchObject({ ok: true, attempt: sent.attempts });
    // Polls and scans go on: the message is not sent a second time.
    await new Promise((r) => setTimeout(r, 1000));
    expect(mailsTo(to)).toHaveLength(1);
  });

  async function staffToken(role: string): Promise<string> {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    expect((await stack.api('POST', '/api/auth/register', { email, name: `${role} user`, password: PASSWORD, role })).status).toBe(201);
    return stack.login(email, PASSWORD);
  }

  it('released lab results: the patient is told they are there, without the values', async () => {
    const to = `lab-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Lena Lab');
    const [doctor, lab] = [await staffToken('doctor'), await staffToken('lab')];
    const test = await stack.api('POST', '/api/lab-tests', { code: `K-${randomUUID().slice(0, 4)}`, name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1 }, lab);
    expect(test.status).toBe(201);
    const order = await stack.api('POST', '/api/lab-orders', { patientId, tests: [test.body.id], priority: 'routine' }, doctor);
    expect(order.status).toBe(201);
    expect((await stack.api('PUT', `/api/lab-orders/${order.body.id}/collect`, undefined, lab)).status).toBe(200);
    expect((await stack.api('PUT', `/api/lab-orders/${order.body.id}/results`, { results: [{ testId: test.body.id, value: 5.83 }] }, lab)).status).toBe(200);
    expect(await outbox(`patientId=${patientId}`)).toEqual([]); // resulted is not released
    expect((await stack.api('PUT', `/api/lab-orders/${order.body.id}/release`, undefined, doctor)).status).toBe(200);
    const mail = await mailTo(to, /^Your lab results are available$/);
    expect(mail.body).toContain(`the results of the test ordered on ${order.body.orderedAt.slice(0, 10)} have been released. Sign in to WardPulse to read them.`);
    expect(mail.body).not.toMatch(/5\.83|Potassium/);
  });

  it('a payment at the desk sends one receipt; its idempotent replay sends none', async () => {
    const to = `pay-${randomUUID().slice(0, 6)}@example.org`;
    const patientId = await patient(to, 'Paul Payer');
    const desk = await staffToken('front-desk');
    const bill = await stack.api('POST', '/api/billing', { patientId, items: [{ kind: 'other', description: 'Dressing', quantity: 1, unitPrice: 10_000 }] }, desk);
    expect(bill.status).toBe(201);
    const key = randomUUID();
    const pay = () =>
      fetch(`${stack.base}/api/billing/pay/${bill.body.id}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${desk}`, 'idempotency-key': key },
        body: JSON.stringify({ amount: 3000, method: 'card' }),
      });
    const first = await pay();
    expect(first.status).toBe(200);
    const paid = (await first.json()) as any;
    const mail = await mailTo(to, /^Payment received/);
    expect(mail.headers.subject).toBe(`Payment received: 30.00 ${bill.body.currency}`);
    expect(mail.body).toContain(`Amount: 30.00 ${bill.body.currency}\nMethod: card`);
    expect(mail.body).toContain(`Payment: ${paid.payment.id}`);
    expect(mail.body).toContain(`still due: 70.00 ${bill.body.currency}.`);
    expect((await pay()).headers.get('idempotent-replayed')).toBe('true');
    await new Promise((r) => setTimeout(r, 500));
    expect(mailsTo(to)).toHaveLength(1);
    expect((await outbox(`patientId=${patientId}`)).map((n) => n.kind)).toEqual(['bill-receipt']);
  });

  it('GET /api/notifications is for admins only and filters by status', async () => {
    const nurse = `nurse-${randomUUID().slice(0, 8)}@test.local`;
    expect((await stack.api('POST', '/api/auth/register', { email: nurse, name: 'Nurse', password: PASSWORD, role: 'nurse' })).status).toBe(201);
    expect((await stack.api('GET', '/api/notifications', undefined, await stack.login(nurse, PASSWORD))).status).toBe(403);
    const sent = await outbox('status=sent&limit=500');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((n) => n.status === 'sent')).toBe(true);
    expect((await stack.api('GET', '/api/notifications?status=lost')).status).toBe(400);
    const openapi = (await stack.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(openapi.paths['/api/notifications'])).toEqual(['get']);
    expect(Object.keys(openapi.paths['/api/me/notifications']).sort()).toEqual(['get', 'put']);
  });
});
