// Structured logs (pino). Secrets are redacted wherever they appear in a logged object.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'wardpulse' },
      redact: {
        paths: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'req.headers.authorization', 'authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
