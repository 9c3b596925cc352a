// One driver (PostgreSQL): TLS is on the listeners, in front of any database.
// TLS on every listener, with real clients: curl and mosquitto_pub against a certificate made by
// openssl for this run; HTTPS, WSS (Socket.IO and MQTT on /mqtt) and MQTTS; device client
// certificates; plain MQTT off; and the security headers, with HSTS only under TLS.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import mqtt, { type MqttClient } from 'mqtt';
import { io as ioClient } from 'socket.io-client';
import { loadConfig } from '../../server/config.ts';
import { startServer } from '../../server/server.ts';
import { collect, connectDevice, eventually, publish, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';
import { makeTestPki, type TestPki } from '../helpers/certs.ts';
import { prepareDashboard } from '../helpers/browser.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const run = (cmd: string, args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });

/** A port nothing listens on (taken from the system, then let go). */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** A TCP connection to `port`: 'refused' when nothing listens. */
const tcpProbe = (port: number): Promise<'open' | 'refused'> =>
  new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1', () => {
      s.destroy();
      resolve('open');
    });
    s.on('error', () => resolve('refused'));
  });

/**
 * Try to connect an MQTT client that must not get in: the broker's refusal (CONNACK), or 'closed'
 * when the connection ends before any CONNACK (a failed TLS handshake ends it without an error
 * event in mqtt.js).
 */
const mustNotConnect = (url: string, deviceId: string, password: string | undefined, extra: mqtt.IClientOptions = {}): Promise<string> =>
  new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: deviceId, username: deviceId, password, reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true, ...extra });
    const done = (outcome: string) => {
      c.end(true);
      resolve(outcome);
    };
    c.once('connect', () => done('connected'));
    c.once('error', (err) => done(err.message));
    c.once('close', () => done('closed'));
  });

type Headers = Record<string, string | string[] | undefined>;
const httpsGet = (url: string, ca: Buffer): Promise<{ status: number; headers: Headers; body: string }> =>
  new Promise((resolve, reject) => {
    httpsRequest(url, { ca, headers: { accept: 'text/html' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });

/** Every response, whatever its status: a CSP with no inline script or style, no framing, nosniff, no referrer. */
function expectSecurityHeaders(h: Headers, https: boolean): void {
  const csp = String(h['content-security-policy']);
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
  expect(directives).toMatchObject({
    'default-src': "'self'",
    'script-src': "'self'",
    'script-src-attr': "'none'",
    'style-src': "'self'",
    'connect-src': "'self'",
    'object-src': "'none'",
    'base-uri': "'none'",
    'frame-ancestors': "'none'",
  });
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain('unsafe-eval');
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['referrer-policy']).toBe('no-referrer');
  expect(h['x-frame-options']).toBe('DENY');
  if (https) {
    expect(h['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(directives).toHaveProperty('upgrade-insecure-requests');
  } else {
    expect(h['strict-transport-security']).toBeUndefined();
    expect(directives).not.toHaveProperty('upgrade-insecure-requests');
  }
}

const vitalsOf = async (stack: Stack, patientId: string, seq: number) => {
  const r = await stack.api('GET', `/api/patients/${patientId}/vitals`);
  return (r.body.items as { seq: number; deviceId: string; values: Record<string, number> }[] | undefined)?.find((i) => i.seq === seq);
};

describe('TLS on every listener: HTTPS, WSS, MQTTS; plain MQTT off; client certificates accepted', () => {
  let pki: TestPki;
  let ca: Buffer;
  let stack: Stack;
  let plainPort: number;
  const clients: MqttClient[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    prepareDashboard(); // the pages checked are today's build
    pki = makeTestPki();
    ca = readFileSync(pki.ca);
    plainPort = await freePort();
    stack = await startStack(
      'postgres',
      inject('pgUrl'),
      { TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, TLS_CLIENT_CA_FILE: pki.ca, MQTT_PLAIN: 'false', MQTT_PORT: String(plainPort) },
      { ca: pki.ca },
    );
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const s of sockets) s.close();
    await stack?.close();
    pki?.remove();
  });

  const device = async (url: string, id: string, password: string | undefined, extra: mqtt.IClientOptions = {}) => {
    const c = await connectDevice(url, id, password, { ca, ...extra });
    clients.push(c);
    return c;
  };

  it('serves HTTPS on HTTP_PORT: curl --cacert verifies the certificate; without the CA, or in plain HTTP, it fails', async () => {
    expect(stack.server.https).toBe(true);
    const port = stack.server.httpPort;
    const ok = await run('curl', ['-sS', '--fail', '--cacert', pki.ca, `https://127.0.0.1:${port}/healthz`]);
    expect(ok).toMatchObject({ code: 0 });
    expect(JSON.parse(ok.stdout)).toEqual({ status: 'ok' });
    const byName = await run('curl', ['-sS', '--fail', '--cacert', pki.ca, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/readyz`]);
    expect(JSON.parse(byName.stdout)).toMatchObject({ status: 'ready', checks: { broker: true } });
    // curl exit 60: the peer's certificate could not be verified (it is not in the system's store).
    expect((await run('curl', ['-sS', `https://127.0.0.1:${port}/healthz`])).code).toBe(60);
    // Plain HTTP to the HTTPS port gets no answer.
    expect((await run('curl', ['-sS', '--max-time', '5', `http://127.0.0.1:${port}/healthz`])).code).not.toBe(0);
    // TLS 1.0 and 1.1 are refused (RFC 8996).
    expect((await run('curl', ['-sS', '--cacert', pki.ca, '--tlsv1.1', '--tls-max', '1.1', `https://127.0.0.1:${port}/healthz`])).code).not.toBe(0);
  });

  it('mosquitto_pub --cafile publishes over MQTTS with the device secret, and the reading is stored', async () => {
    const { patientId, deviceId, secret } = await stack.provision('TLS', '1');
    expect(stack.server.mqttsPort).toBeGreaterThan(0);
    const pub = await run('mosquitto_pub', [
      '--cafile', pki.ca, '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-P', secret, '-i', deviceId, '-q', '1',
      '-t', `devices/${deviceId}/vitals`, '-m', JSON.stringify({ seq: 1, hr: 72, spo2: 97, rr: 14 }),
    ]);
    expect(pub).toMatchObject({ code: 0, stderr: '' });
    const row = await eventually(() => vitalsOf(stack, patientId, 1), 10_000, 'reading stored');
    expect(row).toMatchObject({ deviceId, values: { hr: 72, spo2: 97, rr: 14 } });
    // Without the CA, mosquitto_pub does not trust the server and sends nothing.
    const untrusted = await run('mosquitto_pub', ['--capath', '/nonexistent', '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-P', secret, '-i', deviceId, '-t', `devices/${deviceId}/vitals`, '-m', '{"seq":2,"hr":70}']);
    expect(untrusted.code).not.toBe(0);
    // With the wrong secret and no certificate: refused (CONNACK 5).
    const wrong = await run('mosquitto_pub', ['--cafile', pki.ca, '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-P', 'not-the-secret', '-i', deviceId, '-t', `devices/${deviceId}/vitals`, '-m', '{"seq":3,"hr":70}']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/not authori[sz]ed/i);
  });

  it('a device certificate whose CN is the device id authenticates it without a password (with or without a user name)', async () => {
    const { patientId, deviceId } = await stack.provision('TLS', '2');
    const own = pki.client(deviceId);
    const pub = await run('mosquitto_pub', [
      '--cafile', pki.ca, '--cert', own.cert, '--key', own.key, '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-i', deviceId, '-q', '1',
      '-t', `devices/${deviceId}/vitals`, '-m', JSON.stringify({ seq: 1, hr: 64 }),
    ]);
    expect(pub).toMatchObject({ code: 0, stderr: '' });
    expect(await eventually(() => vitalsOf(stack, patientId, 1), 10_000, 'reading stored')).toMatchObject({ deviceId, values: { hr: 64 } });
    // mqtt.js, user name and no password.
    const c = await device(stack.mqttTls, deviceId, undefined, { cert: readFileSync(own.cert), key: readFileSync(own.key) });
    await publish(c, `devices/${deviceId}/vitals`, { seq: 2, hr: 66 });
    expect(await eventually(() => vitalsOf(stack, patientId, 2), 10_000, 'reading stored')).toMatchObject({ values: { hr: 66 } });
  });

  it('refuses a certificate for another device, from another CA, expired, or not for client authentication — even with the right secret', async () => {
    const a = await stack.provision('TLS', '3');
    const b = await stack.provision('TLS', '4');
    const tlsOpts = (c: { cert: string; key: string }) => ({ cert: readFileSync(c.cert), key: readFileSync(c.key) });
    const attempt = (cert: { cert: string; key: string }, password?: string) => mustNotConnect(stack.mqttTls, a.deviceId, password, { ca, ...tlsOpts(cert) });
    // B's own valid certificate does not make it A.
    expect(await attempt(pki.client(b.deviceId))).toMatch(/Not authorized/);
    expect(await attempt(pki.client(b.deviceId), a.secret)).toMatch(/Not authorized/);
    // Same CN and a CA of the same name, other key: a forgery.
    expect(await attempt(pki.client(a.deviceId, { rogue: true }), a.secret)).toMatch(/Not authorized/);
    expect(await attempt(pki.client(a.deviceId, { expired: true }), a.secret)).toMatch(/Not authorized/);
    expect(await attempt(pki.client(a.deviceId, { eku: 'serverAuth' }), a.secret)).toMatch(/Not authorized/);
    // A valid certificate for a device nobody provisioned proves nothing here.
    expect(await mustNotConnect(stack.mqttTls, 'dev-never-provisioned', undefined, { ca, ...tlsOpts(pki.client('dev-never-provisioned')) })).toMatch(/Not authorized/);
    // Each one is counted with its reason, with the other refusals before login.
    const reasons = await eventually(async () => {
      const r = await stack.api('GET', '/api/ingest-refusals?address=127.0.0.1&limit=1000');
      const byReason = Object.fromEntries((r.body.items as { reason: string; count: number }[]).map((i) => [i.reason, i.count]));
      return byReason['client certificate CN is not the device id'] === 2 && byReason['client certificate not trusted (CERT_HAS_EXPIRED)'] === 1 ? byReason : null;
    }, 15_000, 'refusals counted');
    expect(Object.keys(reasons).filter((k) => k.startsWith('client certificate not trusted'))).toHaveLength(3); // rogue, expired, server-only
    // The device itself, with its secret and no certificate, still connects (certificates are optional here).
    const c = await device(stack.mqttTls, a.deviceId, a.secret);
    await publish(c, `devices/${a.deviceId}/vitals`, { seq: 1, hr: 70 });
  }, 30_000);

  it('has no plain MQTT listener (MQTT_PLAIN=false); MQTTS speaks only TLS', async () => {
    expect(stack.server.mqttPort).toBe(0);
    expect(stack.mqttTcp).toBe('');
    // MQTT_PORT was set to a free port: nothing answers on it.
    expect(await tcpProbe(plainPort)).toBe('refused');
    const { deviceId, secret } = await stack.provision('TLS', '5');
    const plain = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(plainPort), '-u', deviceId, '-P', secret, '-i', deviceId, '-t', `devices/${deviceId}/vitals`, '-m', '{"hr":70}']);
    expect(plain.code).not.toBe(0);
    // Plain MQTT to the MQTTS port: no CONNACK, the handshake fails.
    expect(await mustNotConnect(`mqtt://127.0.0.1:${stack.server.mqttsPort}`, deviceId, secret)).toBe('closed');
    const toTls = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-P', secret, '-i', deviceId, '-t', `devices/${deviceId}/vitals`, '-m', '{"hr":70}']);
    expect(toTls).toMatchObject({ code: 7, stderr: expect.stringMatching(/connection was lost/i) });
  });

  it('carries MQTT over WSS on /mqtt of the HTTPS port; ws:// is not served', async () => {
    const { patientId, deviceId, secret } = await stack.provision('TLS', '6');
    expect(stack.mqttWs).toMatch(/^wss:\/\//);
    const c = await device(stack.mqttWs, deviceId, secret);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 77 });
    expect(await eventually(() => vitalsOf(stack, patientId, 1), 10_000, 'reading stored')).toMatchObject({ values: { hr: 77 } });
    expect(await mustNotConnect(`ws://127.0.0.1:${stack.server.httpPort}/mqtt`, deviceId, secret)).not.toBe('connected');
  });

  it('pushes live vitals to a Socket.IO client over WSS', async () => {
    const { patientId, deviceId, secret } = await stack.provision('TLS-LIVE', '1');
    const s: LiveSocket = await new Promise((resolve, reject) => {
      const sock: LiveSocket = ioClient(stack.base, { auth: { token: stack.adminToken }, transports: ['websocket'], reconnection: false, ca: ca.toString('utf8') });
      sock.once('connect', () => resolve(sock));
      sock.once('connect_error', reject);
    });
    sockets.push(s);
    const vitals = collect(s, 'vitals');
    expect(await s.emitWithAck('subscribe', { ward: 'TLS-LIVE' })).toMatchObject({ ok: true });
    const c = await device(stack.mqttTls, deviceId, secret);
    await publish(c, `devices/${deviceId}/vitals`, { seq: 1, hr: 81 });
    const ev = await eventually(() => vitals.flat().find((v) => v.patientId === patientId), 10_000, 'vitals over wss');
    expect(ev.values).toMatchObject({ hr: 81 });
    // Without the CA the client does not connect.
    await expect(
      new Promise((resolve, reject) => {
        const sock = ioClient(stack.base, { auth: { token: stack.adminToken }, transports: ['websocket'], reconnection: false });
        sock.once('connect', () => resolve(sock.close()));
        sock.once('connect_error', (e) => reject(e));
      }),
    ).rejects.toThrow();
  });

  it('sends the security headers, HSTS included, on the dashboard, the API, errors and the docs; the pages carry no inline script or style', async () => {
    for (const path of ['/', '/ward/A', '/healthz', '/api/patients', '/api/nope', '/api/docs', '/api/docs.css', '/metrics']) {
      const r = await httpsGet(`${stack.base}${path}`, ca);
      expectSecurityHeaders(r.headers, true);
    }
    for (const path of ['/', '/api/docs']) {
      const page = (await httpsGet(`${stack.base}${path}`, ca)).body;
      expect(page).toMatch(/<html/);
      expect(page).not.toMatch(/<style/i);
      expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
      expect(page).not.toMatch(/\sstyle=/i);
      expect(page).not.toMatch(/\son[a-z]+=/i);
    }
    const css = await httpsGet(`${stack.base}/api/docs.css`, ca);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });
});

describe('TLS with client certificates required (TLS_CLIENT_CERT_REQUIRED=true)', () => {
  let pki: TestPki;
  let ca: Buffer;
  let stack: Stack;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    pki = makeTestPki();
    ca = readFileSync(pki.ca);
    stack = await startStack(
      'postgres',
      inject('pgUrl'),
      {
        TLS_CERT_FILE: pki.serverCert,
        TLS_KEY_FILE: pki.serverKey,
        TLS_CLIENT_CA_FILE: pki.ca,
        TLS_CLIENT_CERT_REQUIRED: 'true',
        // Small bounds, to see the handshake held to them.
        MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '5',
        MQTT_AUTH_TIMEOUT_S: '2',
      },
      { ca: pki.ca },
    );
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
    pki?.remove();
  });

  it('no device gets in by its secret alone: MQTTS fails the handshake, WSS is refused at CONNECT; its certificate lets it in', async () => {
    // With TLS and MQTT_PLAIN unset, plain MQTT is off.
    expect(stack.server.mqttPort).toBe(0);
    const { patientId, deviceId, secret } = await stack.provision('REQ', '1');
    const noCert = await run('mosquitto_pub', ['-d', '--cafile', pki.ca, '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-P', secret, '-i', deviceId, '-t', `devices/${deviceId}/vitals`, '-m', '{"seq":1,"hr":70}']);
    // RFC 8446 §4.4.2.4: a server that requires a client certificate aborts the handshake without one.
    expect(noCert).toMatchObject({ code: 7, stderr: expect.stringMatching(/alert certificate required|connection was lost/) });
    expect(await mustNotConnect(stack.mqttTls, deviceId, secret, { ca })).not.toBe('connected');
    expect(await mustNotConnect(stack.mqttWs, deviceId, secret, { ca })).toMatch(/Not authorized/);
    const rogue = pki.client(deviceId, { rogue: true });
    expect(await mustNotConnect(stack.mqttTls, deviceId, secret, { ca, cert: readFileSync(rogue.cert), key: readFileSync(rogue.key) })).not.toBe('connected');
    const own = pki.client(deviceId);
    const pub = await run('mosquitto_pub', [
      '--cafile', pki.ca, '--cert', own.cert, '--key', own.key, '-h', '127.0.0.1', '-p', String(stack.server.mqttsPort), '-u', deviceId, '-i', deviceId, '-q', '1',
      '-t', `devices/${deviceId}/vitals`, '-m', JSON.stringify({ seq: 2, hr: 71 }),
    ]);
    expect(pub).toMatchObject({ code: 0, stderr: '' });
    expect(await eventually(() => vitalsOf(stack, patientId, 2), 10_000, 'reading stored')).toMatchObject({ values: { hr: 71 } });
    expect(await vitalsOf(stack, patientId, 1)).toBeUndefined();
    // Failed handshakes are counted with the refusals before login.
    await eventually(async () => {
      const r = await stack.api('GET', '/api/ingest-refusals?reason=tls%20handshake%20failed');
      return (r.body.items as { count: number }[]).reduce((n, i) => n + i.count, 0) >= 2;
    }, 15_000, 'handshake failures counted');
  }, 30_000);

  it('holds TLS handshakes to the per-address bound and the authentication deadline, as unauthenticated MQTT connections are', async () => {
    const port = stack.server.mqttsPort!;
    const five = await Promise.all(Array.from({ length: 5 }, () => silentSocket(port)));
    await new Promise((r) => setTimeout(r, 200));
    // A sixth from the same address is dropped at once …
    expect(await (await silentSocket(port)).closed).toBeLessThan(1000);
    // … and the five by the deadline (MQTT_AUTH_TIMEOUT_S=2), not Node's 120 s.
    const lifetimes = await Promise.all(five.map((s) => s.closed));
    for (const ms of lifetimes) expect(ms).toBeGreaterThanOrEqual(1500);
    for (const ms of lifetimes) expect(ms).toBeLessThan(5000);
    await eventually(async () => {
      const r = await stack.api('GET', `/api/ingest-refusals?reason=${encodeURIComponent('too many tls handshakes from this address')}`);
      return (r.body.items as { count: number }[]).reduce((n, i) => n + i.count, 0) >= 1;
    }, 15_000, 'handshake flood counted');
    // The address is free again: a device with its certificate gets in.
    const { deviceId } = await stack.provision('REQ', '2');
    const own = pki.client(deviceId);
    const c = await connectDevice(stack.mqttTls, deviceId, undefined, { ca, cert: readFileSync(own.cert), key: readFileSync(own.key) });
    clients.push(c);
  }, 30_000);
});

/** A TCP connection that never starts its TLS handshake; `closed` resolves with its lifetime (ms). */
const silentSocket = (port: number): Promise<{ closed: Promise<number> }> =>
  new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1');
    const t = Date.now();
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now() - t)));
    s.on('error', () => undefined);
    s.once('connect', () => resolve({ closed }));
    s.once('error', reject);
  });

describe('without TLS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('postgres', inject('pgUrl'));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('sends the same security headers, without HSTS or upgrade-insecure-requests; plain MQTT stays on and there is no MQTTS', async () => {
    for (const path of ['/', '/healthz', '/api/patients', '/api/docs', '/metrics']) {
      const r = await fetch(`${stack.base}${path}`, { headers: { accept: 'text/html' } });
      expectSecurityHeaders(Object.fromEntries(r.headers.entries()), false);
    }
    expect(stack.server.https).toBe(false);
    expect(stack.server.mqttPort).toBeGreaterThan(0);
    expect(stack.server.mqttsPort).toBeNull();
  });
});

it('stops the start with the variable named when a PEM file cannot be read', async () => {
  const config = loadConfig({ HTTP_PORT: '0', MQTT_PORT: '0', MQTTS_PORT: '0', TLS_CERT_FILE: '/nonexistent/server.pem', TLS_KEY_FILE: '/nonexistent/server.key', LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent/data' });
  await expect(startServer(config)).rejects.toThrow(/TLS_CERT_FILE="\/nonexistent\/server.pem": cannot be read \(ENOENT\)[\s\S]*TLS_KEY_FILE="\/nonexistent\/server.key": cannot be read/);
});
