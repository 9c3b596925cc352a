// TLS configuration: settings that only make sense together are refused with a ConfigError naming
// the variable, and so are PEM files that cannot be read or used (server/config.ts, server/tls.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, mqttPlain } from '../../server/config.ts';
import { loadTls } from '../../server/tls.ts';
import { makeTestPki, type TestPki } from '../helpers/certs.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('TLS configuration', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterAll(() => pki?.remove());

  it('refuses a certificate without its key, and a key without its certificate', () => {
    expect(problemsOf({ TLS_CERT_FILE: pki.serverCert })).toEqual([expect.stringMatching(/^TLS_KEY_FILE="": required when TLS_CERT_FILE is set/)]);
    expect(problemsOf({ TLS_KEY_FILE: pki.serverKey })).toEqual([expect.stringMatching(/^TLS_CERT_FILE="": required when TLS_KEY_FILE is set/)]);
    expect(problemsOf({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey })).toEqual([]);
  });

  it('refuses MQTT_PLAIN=false without TLS, client certificates without TLS, and "required" without a CA', () => {
    expect(problemsOf({ MQTT_PLAIN: 'false' })).toEqual([expect.stringMatching(/^MQTT_PLAIN="false": .*set TLS_CERT_FILE and TLS_KEY_FILE/)]);
    expect(problemsOf({ TLS_CLIENT_CA_FILE: pki.ca })).toEqual([expect.stringMatching(/^TLS_CLIENT_CA_FILE=".*": client certificates need TLS/)]);
    expect(problemsOf({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, TLS_CLIENT_CERT_REQUIRED: 'true' })).toEqual([
      expect.stringMatching(/^TLS_CLIENT_CERT_REQUIRED="true": needs TLS_CLIENT_CA_FILE/),
    ]);
    expect(problemsOf({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, MQTTS_PORT: '8080' })).toEqual([expect.stringMatching(/^MQTTS_PORT="8080": is also HTTP_PORT/)]);
    expect(problemsOf({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, MQTT_PLAIN: 'true', MQTTS_PORT: '1883' })).toEqual([expect.stringMatching(/^MQTTS_PORT="1883": is also MQTT_PORT/)]);
    expect(problemsOf({ MQTT_PLAIN: 'maybe' })).toEqual([expect.stringMatching(/^MQTT_PLAIN="maybe"/)]);
  });

  it('plain MQTT is on without TLS and off with it unless MQTT_PLAIN says otherwise; MQTTS defaults to 8883', () => {
    expect(mqttPlain(loadConfig({}))).toBe(true);
    const tls = { TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey };
    expect(mqttPlain(loadConfig(tls))).toBe(false);
    expect(mqttPlain(loadConfig({ ...tls, MQTT_PLAIN: 'true' }))).toBe(true);
    expect(mqttPlain(loadConfig({ ...tls, MQTT_PLAIN: 'false' }))).toBe(false);
    expect(loadConfig(tls).MQTTS_PORT).toBe(8883);
  });

  it('reads and checks the PEM files: unreadable, not PEM, a key of another certificate, a CA that is none', () => {
    const config = (over: Record<string, string>) => loadConfig({ TLS_CERT_FILE: pki.serverCert, TLS_KEY_FILE: pki.serverKey, ...over });
    const failure = (over: Record<string, string>) => {
      try {
        loadTls(config(over));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
      throw new Error('loadTls accepted it');
    };
    const missing = join(pki.dir, 'missing.pem');
    expect(failure({ TLS_CERT_FILE: missing })).toEqual([`TLS_CERT_FILE="${missing}": cannot be read (ENOENT)`]);
    expect(failure({ TLS_KEY_FILE: pki.dir })).toEqual([`TLS_KEY_FILE="${pki.dir}": cannot be read (EISDIR)`]);
    const junk = join(pki.dir, 'junk.pem');
    writeFileSync(junk, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    expect(failure({ TLS_CERT_FILE: junk })).toEqual([`TLS_CERT_FILE="${junk}": not a PEM certificate`]);
    expect(failure({ TLS_KEY_FILE: junk })).toEqual([`TLS_KEY_FILE="${junk}": not a PEM private key (an encrypted key is not supported)`]);
    const other = pki.client('dev-x');
    expect(failure({ TLS_KEY_FILE: other.key })).toEqual([`TLS_KEY_FILE="${other.key}": is not the private key of the certificate in TLS_CERT_FILE`]);
    expect(failure({ TLS_CLIENT_CA_FILE: other.cert })).toEqual([`TLS_CLIENT_CA_FILE="${other.cert}": the (first) certificate is not a CA certificate`]);
    const ok = loadTls(config({ TLS_CLIENT_CA_FILE: pki.ca }))!;
    expect(ok.subject).toBe('CN=localhost');
    expect(ok.clientCa).not.toBeNull();
    expect(loadTls(loadConfig({}))).toBeNull();
  });
});
