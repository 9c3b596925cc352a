// Structured logs (pino). Secrets are redacted wherever they appear in a logged object.
// On a terminal the lines are pretty-printed (pino-pretty) for the person watching; anywhere else
// (a file, a pipe, journald, a container's log driver) they stay one JSON object per line for the
// machine reading them. LOG_FORMAT=json|pretty overrides the guess.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import { ConfigError } from './config.ts';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * The format to log in: LOG_FORMAT when set, else pretty on a terminal and JSON otherwise.
 * A value other than `json` or `pretty` is refused with the variable's name, as config.ts does.
 */
export function chooseLogFormat(envValue: string | undefined, isTTY: boolean): LogFormat {
  const v = envValue?.trim().toLowerCase();
  if (v === undefined || v === '') return isTTY ? 'pretty' : 'json';
  if (v === 'json' || v === 'pretty') return v;
  throw new ConfigError([`LOG_FORMAT="${envValue}": must be 'json' or 'pretty'`]);
}

type PrettyFactory = (opts: Record<string, unknown>) => pino.DestinationStream;

/**
 * pino-pretty, when installed. It is a devDependency: a production install (`npm ci --omit=dev`)
 * normally logs to a pipe or a file, i.e. JSON, and one that has a terminal still gets its logs
 * (as JSON) rather than a crash.
 */
function loadPretty(): PrettyFactory | null {
  try {
    return createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  } catch {
    return null;
  }
}

export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: LogFormat = destination ? 'json' : chooseLogFormat(process.env.LOG_FORMAT, process.stdout.isTTY === true),
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'wardpulse' },
    redact: {
      paths: [
        'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'req.headers.authorization', 'authorization',
        // The S3 key pair (reports in S3), however an object carrying it ends up in a log line.
        'secretAccessKey', '*.secretAccessKey', 'S3_SECRET_ACCESS_KEY', '*.S3_SECRET_ACCESS_KEY', 'credentials', '*.credentials',
      ],
      censor: '[redacted]',
    },
  };
  const pretty = format === 'pretty' ? loadPretty() : null;
  if (!pretty) return pino(options, destination);
  // Synchronous, so the lines keep their order with the console output around them (the start
  // banner, the demo's live line) and the last ones are not lost at process.exit.
  const stream = pretty({
    colorize: process.stdout.isTTY === true && !process.env.NO_COLOR,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ignore: 'pid,hostname,service',
    ...(destination ? { destination } : {}),
  });
  return pino(options, stream);
}
