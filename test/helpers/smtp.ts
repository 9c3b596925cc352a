// A real SMTP server for the tests (the `smtp-server` package) on a loopback port, collecting the
// raw messages it accepts, plus a small parser for the plain-text mails WardPulse sends (headers,
// quoted-printable or 7bit text bodies). It can be stopped and started again on the same port, to
// play an outage of the mail server.
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  /** The SMTP envelope's recipients. */
  rcptTo: string[];
  headers: Record<string, string>;
  body: string;
}

export interface TestSmtp {
  port: number;
  url: string;
  mails: ReceivedMail[];
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

export const SMTP_USER = 'wardpulse';
export const SMTP_PASSWORD = 'smtp-test-password';

export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let server: SMTPServer | null = null;
  let port = 0;
  const make = () =>
    new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
        else cb(new Error('invalid credentials'));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          mails.push({ raw, rcptTo: session.envelope.rcptTo.map((r) => r.address), ...parseMail(raw) });
          cb();
        });
      },
    });
  const listen = async () => {
    server = make();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server!.server.address() as { port: number }).port;
  };
  await listen();
  const smtp: TestSmtp = {
    port,
    url: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
    mails,
    async stop() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    start: listen,
  };
  return smtp;
}

/** Headers (unfolded, names lower-case, RFC 2047 words decoded) and the decoded text body. */
export function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'quoted-printable') body = quotedPrintable(body);
  else if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body: body.replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  const s = text.replace(/=\r\n/g, '');
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `=?UTF-8?Q?…?=` and `=?UTF-8?B?…?=` words, as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : quotedPrintable(text.replace(/_/g, ' ')),
    );
}
