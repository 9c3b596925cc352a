// The pure parts of e-mail notifications: the retry rule, the on-call setting, the messages and
// the configuration's checks (server/notify/messages.ts, server/config.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { appointmentMessage, backoffMs, escalationMessage, formatMoney, labCriticalMessage, labResultsMessage, parseOnCall, receiptMessage } from '../../server/notify/messages.ts';
import { ROLES } from '../../server/domain/roles.ts';

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
};

describe('backoffMs', () => {
  it.each([
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [6, 30_000], // 32 000 capped
    [100, 30_000], // no overflow past the cap
  ])('after %i failed attempts waits %i ms (base 1 s, cap 30 s)', (attempt, ms) => {
    expect(backoffMs(attempt, 1000, 30_000)).toBe(ms);
  });
});

describe('parseOnCall (ONCALL_EMAILS)', () => {
  it('reads addresses per role, lower-cased, each once', () => {
    expect(parseOnCall('doctor:A@x.org, b@x.org;nurse:c@x.org;', ROLES)).toEqual({ ok: true, value: { doctor: ['a@x.org', 'b@x.org'], nurse: ['c@x.org'] } });
    expect(parseOnCall('nurse:c@x.org,C@x.org', ROLES)).toEqual({ ok: true, value: { nurse: ['c@x.org'] } });
  });
  it.each([
    ['', 'names no role'],
    ['a@x.org', "'a@x.org' has no 'role:' before its addresses"],
    ['surgeon:a@x.org', "'surgeon' is not a role"],
    ['nurse:', "'nurse' has no address"],
    ['nurse:not-an-address', "'not-an-address' is not an e-mail address"],
    ['nurse:a@x.org;nurse:b@x.org', "'nurse' is given twice"],
  ])('refuses %j: %s', (text, problem) => {
    const r = parseOnCall(text, ROLES);
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems.join('; ')).toContain(problem);
  });
});

describe('messages', () => {
  const a = { patientName: 'Ada Lovelace', doctorName: 'Dr Grace Hopper', date: '2030-05-06', time: '09:15', tokenNumber: 4 };
  it('tells the patient of a booking, a move, a cancellation and a reminder, with doctor, day, time and token', () => {
    expect(appointmentMessage('appointment-booked', a)).toEqual({
      subject: 'Appointment booked: Dr Grace Hopper, 2030-05-06 at 09:15',
      body: expect.stringMatching(/^Dear Ada Lovelace,\n\nyour appointment with Dr Grace Hopper is booked for 2030-05-06 at 09:15\. Your token number is 4\./),
    });
    expect(appointmentMessage('appointment-rescheduled', a, { date: '2030-05-05', time: '10:00' }).body).toContain('on 2030-05-05 at 10:00 has been moved to 2030-05-06 at 09:15');
    expect(appointmentMessage('appointment-confirmed', a).body).toContain('on 2030-05-06 at 09:15 is confirmed. Your token number is 4.');
    expect(appointmentMessage('appointment-cancelled', a).subject).toBe('Appointment cancelled: Dr Grace Hopper, 2030-05-06 at 09:15');
    expect(appointmentMessage('appointment-reminder', a).subject).toBe('Reminder: appointment with Dr Grace Hopper, 2030-05-06 at 09:15');
  });
  it('tells of released lab results without their values, and gives a receipt in the currency’s own decimals', () => {
    expect(labResultsMessage({ patientName: 'Ada', orderedAt: '2030-05-06T08:00:00.000Z', tests: 3 }).body).toContain('the results of the 3 tests ordered on 2030-05-06 have been released');
    expect(labResultsMessage({ patientName: 'Ada', orderedAt: '2030-05-06T08:00:00.000Z', tests: 1 }).body).toContain('the results of the test ordered');
    expect(formatMoney(12_345, 'EUR')).toBe('123.45 EUR');
    expect(formatMoney(500, 'JPY')).toBe('500 JPY');
    expect(formatMoney(1_234, 'KWD')).toBe('1.234 KWD');
    const r = receiptMessage({ patientName: 'Ada', paymentId: 'p1', billId: 'b1', amount: 3000, currency: 'EUR', method: 'card', at: '2030-05-06T08:00:00.000Z', paid: 10_000, total: 10_000 });
    expect(r.subject).toBe('Payment received: 30.00 EUR');
    expect(r.body).toContain('Bill total: 100.00 EUR; paid: 100.00 EUR; paid in full.');
  });
  it('tells the on-call doctor of a critical lab result: where, which order, the values and the limit crossed', () => {
    const m = labCriticalMessage({ orderId: 'o-1', ward: null, bed: null, results: [{ name: 'Potassium', value: 2.1, unit: 'mmol/L', flag: 'LL', limit: 2.5 }, { name: 'Sodium', value: 165, unit: 'mmol/L', flag: 'HH', limit: 160 }] });
    expect(m.subject).toBe('[CRITICAL] Lab result — a patient off the wards');
    expect(m.body).toContain('Lab order: o-1\n- Potassium: 2.1 mmol/L (LL; critical below 2.5)\n- Sodium: 165 mmol/L (HH; critical above 160)');
  });
  it('tells on-call staff where the escalated alarm is, without the patient’s name', () => {
    const m = escalationMessage({ alarmId: 'al-1', level: 2, role: 'doctor', priority: 'high', kind: 'news2', message: 'NEWS2 8', ward: 'B', bed: '12', at: Date.UTC(2030, 0, 1, 3, 4, 5) });
    expect(m.subject).toBe('[HIGH] Alarm escalated (level 2) — B, bed 12');
    expect(m.body).toContain('escalated to the doctor on call');
    expect(m.body).toContain('Alarm: NEWS2 8 (news2, high priority)');
    expect(m.body).toContain('At: 2030-01-01T03:04:05.000Z');
    expect(escalationMessage({ alarmId: 'x', level: 1, role: 'nurse', priority: 'medium', kind: 'k', message: 'm', ward: null, bed: null, at: 0 }).subject).toContain('a patient off the wards');
  });
});

describe('e-mail settings', () => {
  const smtp = { SMTP_URL: 'smtps://wp:s3cret-pass@mail.example.org:465', MAIL_FROM: 'WardPulse <noreply@hospital.example>' };
  it('are off by default, with defaults for the reminder and the retry rule', () => {
    expect(loadConfig({}).SMTP_URL).toBeUndefined();
    expect(loadConfig({})).toMatchObject({ REMINDER_BEFORE_H: 24, NOTIFY_MAX_ATTEMPTS: 12, NOTIFY_RETRY_BASE_MS: 30_000 });
    expect(loadConfig({ ...smtp, ONCALL_EMAILS: 'doctor:a@x.org;nurse:c@x.org' }).ONCALL_EMAILS).toEqual({ doctor: ['a@x.org'], nurse: ['c@x.org'] });
  });
  it('take smtp:// or smtps:// only, never echoing the password', () => {
    const p = problems({ SMTP_URL: 'http://wp:s3cret-pass@mail.example.org', MAIL_FROM: smtp.MAIL_FROM });
    expect(p).toEqual([expect.stringMatching(/^SMTP_URL="http:\/\/wp:\*\*\*@mail\.example\.org": must be an smtp:\/\/ or smtps:\/\/ URL/)]);
    expect(problems({ SMTP_URL: 'wp:s3cret-pass@mail', MAIL_FROM: smtp.MAIL_FROM })).toEqual([expect.stringMatching(/^SMTP_URL=\(value hidden\): must be/)]);
    expect(JSON.stringify(p)).not.toContain('s3cret-pass');
  });
  it('need MAIL_FROM with SMTP_URL, and MAIL_FROM and ONCALL_EMAILS only with it', () => {
    expect(problems({ SMTP_URL: smtp.SMTP_URL })).toEqual([expect.stringMatching(/^MAIL_FROM="": required when SMTP_URL is set/)]);
    expect(problems({ MAIL_FROM: smtp.MAIL_FROM, ONCALL_EMAILS: 'nurse:c@x.org' })).toEqual([
      'MAIL_FROM: only with SMTP_URL (e-mail notifications are off without it)',
      'ONCALL_EMAILS: only with SMTP_URL (e-mail notifications are off without it)',
    ]);
    expect(problems({ ...smtp, MAIL_FROM: 'noreply' })).toEqual([expect.stringMatching(/^MAIL_FROM="noreply": must be an address/)]);
    expect(problems({ ...smtp, ONCALL_EMAILS: 'surgeon:a@x.org' })).toEqual([expect.stringMatching(/^ONCALL_EMAILS="surgeon:a@x.org": 'surgeon' is not a role/)]);
  });
  it('SMS: a gateway URL with its secret, https unless local, the secret never shown', () => {
    expect(problems({ SMS_WEBHOOK_URL: 'https://sms.example.org/send', SMS_WEBHOOK_SECRET: 'sms-secret-0123456789' })).toEqual([]);
    expect(problems({ SMS_WEBHOOK_URL: 'https://sms.example.org/send' })).toEqual([expect.stringMatching(/^SMS_WEBHOOK_SECRET="": required when SMS_WEBHOOK_URL is set/)]);
    expect(problems({ SMS_WEBHOOK_SECRET: 'sms-secret-0123456789' })).toEqual(['SMS_WEBHOOK_SECRET: only with SMS_WEBHOOK_URL (the value is not shown)']);
    expect(problems({ SMS_WEBHOOK_URL: 'http://sms.example.org/send', SMS_WEBHOOK_SECRET: 'sms-secret-0123456789' })).toEqual([expect.stringMatching(/^SMS_WEBHOOK_URL="http:\/\/sms\.example\.org\/send": must be https:\/\//)]);
    expect(problems({ SMS_WEBHOOK_URL: 'http://127.0.0.1:9999/sms', SMS_WEBHOOK_SECRET: 'sms-secret-0123456789' })).toEqual([]);
    expect(problems({ SMS_WEBHOOK_URL: 'https://sms.example.org', SMS_WEBHOOK_SECRET: 'short-sms' })).toEqual(['SMS_WEBHOOK_SECRET=(value hidden): must be at least 16 characters']);
  });
  it('refuse a password over plain smtp:// to another host, but allow it to localhost or with requireTLS', () => {
    expect(problems({ ...smtp, SMTP_URL: 'smtp://wp:s3cret-pass@mail.example.org:587' })).toEqual([
      expect.stringMatching(/^SMTP_URL="smtp:\/\/wp:\*\*\*@mail\.example\.org:587": carries a password over smtp:\/\//),
    ]);
    expect(problems({ ...smtp, SMTP_URL: 'smtp://wp:s3cret-pass@mail.example.org:587?requireTLS=true' })).toEqual([]);
    expect(problems({ ...smtp, SMTP_URL: 'smtp://wp:s3cret-pass@127.0.0.1:2525' })).toEqual([]);
    expect(problems({ ...smtp, REMINDER_BEFORE_H: '0' })).toEqual([expect.stringMatching(/^REMINDER_BEFORE_H="0": must be 1 to 168 hours/)]);
  });
});
