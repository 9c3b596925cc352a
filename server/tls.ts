// TLS material (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE): read once at start and checked,
// so that an unreadable file, a PEM that is not one, or a key that does not belong to the
// certificate stops the start with a message naming the variable — never a half-started server.
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from './config.ts';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** CAs whose device certificates authenticate a device on MQTTS (TLS_CLIENT_CA_FILE); null: none asked for. */
  clientCa: Buffer | null;
  clientCertRequired: boolean;
  /** The server certificate's subject and expiry, for the start-up log. */
  subject: string;
  validTo: Date;
}

type TlsConfig = Pick<Config, 'TLS_CERT_FILE' | 'TLS_KEY_FILE' | 'TLS_CLIENT_CA_FILE' | 'TLS_CLIENT_CERT_REQUIRED'>;

/** Null when TLS is off (no TLS_CERT_FILE); throws ConfigError naming the variable otherwise. */
export function loadTls(config: TlsConfig): TlsMaterial | null {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return null;
  const problems: string[] = [];
  const read = (name: keyof TlsConfig, path: string): Buffer | null => {
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${name}="${path}": cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return null;
    }
  };
  const cert = read('TLS_CERT_FILE', config.TLS_CERT_FILE);
  const key = read('TLS_KEY_FILE', config.TLS_KEY_FILE);
  const clientCa = config.TLS_CLIENT_CA_FILE ? read('TLS_CLIENT_CA_FILE', config.TLS_CLIENT_CA_FILE) : null;
  if (problems.length > 0) throw new ConfigError(problems);

  let x509: X509Certificate | null = null;
  try {
    x509 = new X509Certificate(cert!);
  } catch {
    problems.push(`TLS_CERT_FILE="${config.TLS_CERT_FILE}": not a PEM certificate`);
  }
  let privateKey: ReturnType<typeof createPrivateKey> | null = null;
  try {
    privateKey = createPrivateKey(key!);
  } catch {
    // (the key's bytes are never echoed)
    problems.push(`TLS_KEY_FILE="${config.TLS_KEY_FILE}": not a PEM private key (an encrypted key is not supported)`);
  }
  if (x509 && privateKey && !x509.checkPrivateKey(privateKey)) {
    problems.push(`TLS_KEY_FILE="${config.TLS_KEY_FILE}": is not the private key of the certificate in TLS_CERT_FILE`);
  }
  if (clientCa) {
    try {
      if (!new X509Certificate(clientCa).ca) problems.push(`TLS_CLIENT_CA_FILE="${config.TLS_CLIENT_CA_FILE}": the (first) certificate is not a CA certificate`);
    } catch {
      problems.push(`TLS_CLIENT_CA_FILE="${config.TLS_CLIENT_CA_FILE}": not a PEM certificate`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  try {
    // What the listeners will do with it: the whole chain, as OpenSSL reads it.
    createSecureContext({ cert: cert!, key: key!, ...(clientCa ? { ca: clientCa } : {}) });
  } catch (err) {
    throw new ConfigError([`TLS_CERT_FILE/TLS_KEY_FILE: refused by TLS (${(err as Error).message})`]);
  }
  return {
    cert: cert!,
    key: key!,
    clientCa,
    clientCertRequired: config.TLS_CLIENT_CERT_REQUIRED,
    subject: x509!.subject.replace(/\n/g, ', '),
    validTo: new Date(x509!.validTo),
  };
}
