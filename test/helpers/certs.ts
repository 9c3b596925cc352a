// A throw-away PKI for the TLS tests, made by the `openssl` command line in a temporary folder: a
// CA, a server certificate for 127.0.0.1 and localhost, and device (client) certificates issued on
// demand — plus a second, untrusted CA to forge with.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** The CA that signs the server's and the devices' certificates. */
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Issue a device certificate (and key) whose subject CN is `cn`. */
  client(cn: string, opts?: ClientCertOptions): { cert: string; key: string };
  remove(): void;
}

export interface ClientCertOptions {
  /** Signed by a CA of its own, which the server does not trust. */
  rogue?: boolean;
  /** Valid only in the past (2020). */
  expired?: boolean;
  /** extendedKeyUsage (default clientAuth). */
  eku?: string;
}

const openssl = (cwd: string, args: string[]) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function issue(dir: string, caName: string, name: string, subject: string, ext: string, dates?: { start: string; end: string }): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  if (!dates) {
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
    return;
  }
  // `openssl x509` cannot back-date a certificate; `openssl ca` can.
  const db = join(dir, `${name}-db`);
  writeFileSync(`${db}.index`, '');
  writeFileSync(
    join(dir, `${name}-ca.cnf`),
    [
      '[ca]', 'default_ca = test', '[test]', `database = ${db}.index`, `new_certs_dir = ${dir}`, `certificate = ${join(dir, `${caName}.pem`)}`,
      `private_key = ${join(dir, `${caName}.key`)}`, `serial = ${db}.serial`, 'default_md = sha256', 'policy = any', 'copy_extensions = none',
      '[any]', 'commonName = supplied',
    ].join('\n') + '\n',
  );
  writeFileSync(`${db}.serial`, '1000\n');
  openssl(dir, ['ca', '-batch', '-config', `${name}-ca.cnf`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', dates.start, '-enddate', dates.end, '-extfile', `${name}.ext`, '-notext']);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-pki-'));
  makeCa(dir, 'ca', 'WardPulse Test CA');
  makeCa(dir, 'rogue-ca', 'WardPulse Test CA'); // same name, other key: a forgery
  issue(dir, 'ca', 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  let n = 0;
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    client(cn, opts = {}) {
      const name = `client-${++n}`;
      const ext = `extendedKeyUsage=${opts.eku ?? 'clientAuth'}\n`;
      issue(dir, opts.rogue ? 'rogue-ca' : 'ca', name, `/CN=${cn}`, ext, opts.expired ? { start: '20200101000000Z', end: '20200102000000Z' } : undefined);
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
