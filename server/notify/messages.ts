// What the notifications say, and the outbox's retry rule: pure functions, no I/O (tested in
// test/unit/notify.test.ts). A message carries no more patient data than its reader needs: the
// patient's own appointment (doctor, day, time, token — never the visit reason), and for staff the
// ward, bed and alarm, not the patient's name (e-mail crosses servers the hospital does not run).

/** The kinds a patient can opt out of, one by one (PUT /api/me/notifications). */
export const PATIENT_KINDS = ['appointment-booked', 'appointment-confirmed', 'appointment-rescheduled', 'appointment-cancelled', 'appointment-reminder', 'lab-results-released', 'bill-receipt'] as const;
export type PatientKind = (typeof PATIENT_KINDS)[number];
export type AppointmentKind = Extract<PatientKind, `appointment-${string}`>;
/** Sent to the on-call addresses of a role (ONCALL_EMAILS); not for patients to turn off. */
export type StaffKind = 'alarm-escalated' | 'lab-critical';
export type NotificationKind = PatientKind | StaffKind;

export interface Message {
  subject: string;
  body: string;
}

/** An appointment as a patient's message needs it. */
export interface AppointmentFacts {
  patientName: string;
  doctorName: string;
  date: string;
  time: string;
  tokenNumber: number;
}

const signature = '\n\n— WardPulse (this message was sent automatically; please do not reply to it)';

export function appointmentMessage(kind: AppointmentKind, a: AppointmentFacts, before?: { date: string; time: string }): Message {
  const when = `${a.date} at ${a.time}`;
  const hello = `Dear ${a.patientName},\n\n`;
  switch (kind) {
    case 'appointment-booked':
      return {
        subject: `Appointment booked: ${a.doctorName}, ${when}`,
        body: `${hello}your appointment with ${a.doctorName} is booked for ${when}. Your token number is ${a.tokenNumber}.${signature}`,
      };
    case 'appointment-confirmed':
      return {
        subject: `Appointment confirmed: ${a.doctorName}, ${when}`,
        body: `${hello}your appointment with ${a.doctorName} on ${when} is confirmed. Your token number is ${a.tokenNumber}.${signature}`,
      };
    case 'appointment-rescheduled':
      return {
        subject: `Appointment moved: ${a.doctorName}, now ${when}`,
        body: `${hello}your appointment with ${a.doctorName}${before ? ` on ${before.date} at ${before.time}` : ''} has been moved to ${when}. Your token number is ${a.tokenNumber}.${signature}`,
      };
    case 'appointment-cancelled':
      return {
        subject: `Appointment cancelled: ${a.doctorName}, ${when}`,
        body: `${hello}your appointment with ${a.doctorName} on ${when} has been cancelled.${signature}`,
      };
    case 'appointment-reminder':
      return {
        subject: `Reminder: appointment with ${a.doctorName}, ${when}`,
        body: `${hello}this is a reminder of your appointment with ${a.doctorName} on ${when}. Your token number is ${a.tokenNumber}.${signature}`,
      };
  }
}

/**
 * Results are released to the patient's account: the mail says so and where to look, never the
 * values (a result is read with its reference range and, where it matters, with the doctor).
 */
export function labResultsMessage(r: { patientName: string; orderedAt: string; tests: number }): Message {
  const day = r.orderedAt.slice(0, 10);
  return {
    subject: 'Your lab results are available',
    body: `Dear ${r.patientName},\n\nthe results of ${r.tests === 1 ? 'the test' : `the ${r.tests} tests`} ordered on ${day} have been released. Sign in to WardPulse to read them.${signature}`,
  };
}

/** An amount in minor units as the currency writes it: 12345 EUR → "123.45 EUR", 500 JPY → "500 JPY". */
export function formatMoney(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    /* an unknown code: two decimals */
  }
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

export function receiptMessage(r: { patientName: string; paymentId: string; billId: string; amount: number; currency: string; method: string; at: string; paid: number; total: number }): Message {
  const balance = r.total - r.paid;
  return {
    subject: `Payment received: ${formatMoney(r.amount, r.currency)}`,
    body:
      `Dear ${r.patientName},\n\nwe received your payment. This is your receipt.\n\n` +
      `Amount: ${formatMoney(r.amount, r.currency)}\nMethod: ${r.method}\nDate: ${r.at}\nPayment: ${r.paymentId}\nBill: ${r.billId}\n` +
      `Bill total: ${formatMoney(r.total, r.currency)}; paid: ${formatMoney(r.paid, r.currency)}; ` +
      (balance > 0 ? `still due: ${formatMoney(balance, r.currency)}.` : 'paid in full.') +
      signature,
  };
}

/**
 * A critical lab result (LL/HH) for the on-call doctor: where the patient is, the order and the
 * values with the limit crossed — a clinician must act on them — but not the patient's name.
 */
export function labCriticalMessage(r: { orderId: string; ward: string | null; bed: string | null; results: { name: string; value: number; unit: string; flag: string; limit: number }[] }): Message {
  const where = r.ward ? `${r.ward}${r.bed ? `, bed ${r.bed}` : ''}` : 'a patient off the wards';
  const lines = r.results.map((x) => `- ${x.name}: ${x.value} ${x.unit} (${x.flag}; critical ${x.flag === 'LL' ? 'below' : 'above'} ${x.limit})`).join('\n');
  return {
    subject: `[CRITICAL] Lab result — ${where}`,
    body: `A critical lab result was entered.\n\nWhere: ${where}\nLab order: ${r.orderId}\n${lines}\n\nThe patient's alarm is raised on the ward display; open the order in WardPulse.${signature}`,
  };
}

export interface EscalationFacts {
  alarmId: string;
  level: number;
  role: string;
  priority: string;
  kind: string;
  message: string;
  ward: string | null;
  bed: string | null;
  at: number;
}

export function escalationMessage(e: EscalationFacts): Message {
  const where = e.ward ? `${e.ward}${e.bed ? `, bed ${e.bed}` : ''}` : 'a patient off the wards';
  return {
    subject: `[${e.priority.toUpperCase()}] Alarm escalated (level ${e.level}) — ${where}`,
    body:
      `An alarm was not acknowledged in time and is escalated to the ${e.role} on call.\n\n` +
      `Where: ${where}\nAlarm: ${e.message} (${e.kind}, ${e.priority} priority)\nEscalation level: ${e.level}\n` +
      `At: ${new Date(e.at).toISOString()}\nAlarm id: ${e.alarmId}\n\nAcknowledge it on the ward display or the patient panel.${signature}`,
  };
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ones: base, 2×, 4× … capped at
 * `capMs`. No jitter: the claim is a database row lease, so two nodes never retry one row together.
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number): number {
  if (attempt < 1) return 0;
  return Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}

/**
 * ONCALL_EMAILS: `role:address,address;role:address` → addresses per role. Returns the problems
 * instead when it is malformed (each naming the part at fault); `roles`: the known roles.
 */
export function parseOnCall(text: string, roles: readonly string[]): { ok: true; value: Record<string, string[]> } | { ok: false; problems: string[] } {
  const value: Record<string, string[]> = {};
  const problems: string[] = [];
  const parts = text.split(';').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) problems.push('names no role');
  for (const part of parts) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      problems.push(`'${part}' has no 'role:' before its addresses`);
      continue;
    }
    const role = part.slice(0, colon).trim();
    if (!roles.includes(role)) problems.push(`'${role}' is not a role (roles: ${roles.join(', ')})`);
    else if (value[role]) problems.push(`'${role}' is given twice`);
    const addresses = part.slice(colon + 1).split(',').map((a) => a.trim()).filter((a) => a.length > 0);
    if (addresses.length === 0) problems.push(`'${role}' has no address`);
    for (const a of addresses) if (!EMAIL.test(a)) problems.push(`'${a}' is not an e-mail address`);
    value[role] = [...new Set(addresses.map((a) => a.toLowerCase()))];
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

const EMAIL = /^[^\s@,;:<>]+@[^\s@,;:<>]+\.[^\s@,;:<>]+$/;
