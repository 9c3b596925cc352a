// One catalogue of errors: one stable code per condition, with its HTTP status and what it means.
// Domain code throws `fail(code, message, details?)`; one handler (server/http/app.ts) turns it
// into `{ error: { code, message, details? } }`. Clients (the dashboard too) branch on the code,
// never on the message text. docs/api.md lists the same table (a unit test keeps them in step).

export const CATALOGUE = {
  // ---- the request itself
  ERR_VALIDATION: { status: 400, meaning: 'A parameter, query, body or socket message breaks its schema; `details` names each field.' },
  ERR_BAD_JSON: { status: 400, meaning: 'The body is not valid JSON.' },
  ERR_BAD_REQUEST: { status: 400, meaning: 'The HTTP request is malformed (refused by the HTTP layer before any route).' },
  ERR_BAD_SIGNATURE: { status: 400, meaning: "A payment confirmation's signature is missing, malformed or not the provider's." },
  ERR_TOO_LARGE: { status: 413, meaning: 'The body or upload is larger than allowed.' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'An upload whose content type or content is not accepted.' },
  // ---- who is asking
  ERR_UNAUTHENTICATED: { status: 401, meaning: 'No token, or an invalid or expired one.' },
  ERR_BAD_CREDENTIALS: { status: 401, meaning: 'Wrong e-mail or password (also for unknown accounts).' },
  ERR_BAD_CODE: { status: 401, meaning: 'A wrong or already used two-factor code (TOTP or recovery code) at the second step of a login.' },
  ERR_FORBIDDEN: { status: 403, meaning: "The caller's role, ward binding or field view does not allow this." },
  ERR_RATE_LIMITED: { status: 429, meaning: 'Too many attempts (logins, registrations); `Retry-After` says when to try again.' },
  // ---- the records
  ERR_NOT_FOUND: { status: 404, meaning: 'No such record or endpoint, or one the caller may not see (same answer, on purpose).' },
  ERR_DUPLICATE: { status: 409, meaning: 'A record with the same unique key exists (e-mail, device id, schedule day …).' },
  ERR_ARCHIVED: { status: 409, meaning: 'The record is archived: kept for history, no longer changed.' },
  ERR_ILLEGAL_TRANSITION: { status: 409, meaning: "The record's state does not allow this action (cancel a completed appointment, discharge twice, act on a resolved alarm)." },
  ERR_WRONG_KIND: { status: 409, meaning: 'The record is of a kind this action does not apply to (wards for a non-ward-bound account).' },
  // ---- appointments and queue
  ERR_SLOT_TAKEN: { status: 409, meaning: 'The doctor already has an appointment at that time.' },
  ERR_NOT_BOOKABLE: { status: 409, meaning: "The time is outside the doctor's schedule, on leave, or in the past." },
  ERR_BOOKING_LIMIT: { status: 409, meaning: 'The patient already holds the daily maximum of appointments with that doctor.' },
  ERR_QUEUE_EMPTY: { status: 409, meaning: 'Nobody is waiting in the queue.' },
  // ---- admissions
  ERR_ALREADY_ADMITTED: { status: 409, meaning: 'The patient is already admitted: discharge first.' },
  ERR_BED_OCCUPIED: { status: 409, meaning: 'Another patient is in that bed.' },
  // ---- stock, prescriptions, billing
  ERR_STOCK_SHORT: { status: 409, meaning: 'Not enough of an item is left; `details` says how much.' },
  ERR_NO_FILLS_LEFT: { status: 409, meaning: 'The prescription has no fills left.' },
  ERR_NOTHING_TO_DISPENSE: { status: 409, meaning: 'No medicine on the prescription is dispensed from stock.' },
  ERR_ALLERGY: { status: 409, meaning: "A medicine matches one of the patient's recorded allergies; resend with `override: { reason }` to prescribe anyway." },
  ERR_INTERACTION: { status: 409, meaning: 'A medicine has a contraindicated interaction with another on the prescription or an active one; resend with `override: { reason }` to prescribe anyway.' },
  ERR_IDEMPOTENCY_KEY_REUSED: { status: 409, meaning: 'The Idempotency-Key was already used for a different request.' },
  ERR_PAYMENT_REFUSED: { status: 409, meaning: 'The bill does not take this payment (settled, void, more than is due, other currency).' },
  ERR_PAYMENT_MISMATCH: { status: 409, meaning: "A provider's payment does not match its order or is already recorded elsewhere; not recorded." },
  ERR_PAYMENT_PROVIDER: { status: 502, meaning: 'The payment provider failed or answered wrong: the request was fine, the upstream was not.' },
  // ---- the system
  ERR_UNAVAILABLE: { status: 503, meaning: 'A part the request needs (database, storage) is not available; retry.' },
  ERR_INTERNAL: { status: 500, meaning: 'A fault on our side; logged with its stack, nothing about it is sent.' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof CATALOGUE;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** The catalogue error `code` with this message (and details for clients). */
export function fail(code: ErrorCode, message: string, details?: unknown): AppError {
  return new AppError(code, CATALOGUE[code].status, message, details);
}

export const Errors = {
  validation: (message: string, details?: unknown) => fail('ERR_VALIDATION', message, details),
  badJson: (message: string) => fail('ERR_BAD_JSON', `malformed JSON body: ${message}`),
  unauthenticated: (message = 'authentication required') => fail('ERR_UNAUTHENTICATED', message),
  badCredentials: () => fail('ERR_BAD_CREDENTIALS', 'wrong email or password'),
  forbidden: (message = 'your role may not do this') => fail('ERR_FORBIDDEN', message),
  notFound: (what: string, id?: string) => fail('ERR_NOT_FOUND', id === undefined ? `${what} not found` : `${what} '${id}' not found`),
  archived: (what: string, id?: string) => fail('ERR_ARCHIVED', id === undefined ? `${what} is archived` : `${what} '${id}' is archived`),
  tooLarge: (message: string) => fail('ERR_TOO_LARGE', message),
  tooManyRequests: (message: string) => fail('ERR_RATE_LIMITED', message),
  unavailable: (message: string) => fail('ERR_UNAVAILABLE', message),
  badSignature: (message: string) => fail('ERR_BAD_SIGNATURE', message),
  paymentProvider: (message: string) => fail('ERR_PAYMENT_PROVIDER', message),
};
