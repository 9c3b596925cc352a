// One catalogue of errors with stable codes and HTTP statuses, thrown by domain code and turned
// into `{ error: { code, message, details? } }` by one handler (server/http/app.ts).

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const Errors = {
  validation: (message: string, details?: unknown) => new AppError('ERR_VALIDATION', 400, message, details),
  badJson: (message: string) => new AppError('ERR_BAD_JSON', 400, `malformed JSON body: ${message}`),
  unauthenticated: (message = 'authentication required') => new AppError('ERR_UNAUTHENTICATED', 401, message),
  badCredentials: () => new AppError('ERR_BAD_CREDENTIALS', 401, 'wrong email or password'),
  forbidden: (message = 'your role may not do this') => new AppError('ERR_FORBIDDEN', 403, message),
  notFound: (what: string, id?: string) =>
    new AppError('ERR_NOT_FOUND', 404, id === undefined ? `${what} not found` : `${what} '${id}' not found`),
  conflict: (message: string) => new AppError('ERR_CONFLICT', 409, message),
  tooLarge: (message: string) => new AppError('ERR_TOO_LARGE', 413, message),
  tooManyRequests: (message: string) => new AppError('ERR_RATE_LIMITED', 429, message),
  unavailable: (message: string) => new AppError('ERR_UNAVAILABLE', 503, message),
  /** A payment confirmation whose signature is missing, malformed or not the provider's. */
  badSignature: (message: string) => new AppError('ERR_BAD_SIGNATURE', 400, message),
  /** The payment provider failed or answered wrong: the request was fine, the upstream was not. */
  paymentProvider: (message: string) => new AppError('ERR_PAYMENT_PROVIDER', 502, message),
};
