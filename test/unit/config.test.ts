// Configuration is validated at start with a clear message naming the variable and the value.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, s3ForcePathStyle } from '../../server/config.ts';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HTTP_PORT: 8080, MQTT_PORT: 1883, DATA_DIR: './data', LOG_LEVEL: 'info', ALLOW_ANONYMOUS_DEVICES: false });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('has defaults for the fault bounds (spill, device rate limit, slow live clients)', () => {
    expect(loadConfig({})).toMatchObject({ SPILL_MAX_MB: 1024, DEVICE_MAX_MSG_PER_S: 20, DEVICE_MSG_BURST: 100, LIVE_CLIENT_MAX_BUFFER_PACKETS: 1000, LIVE_CLIENT_MAX_BUFFER_KB: 8192 });
  });

  it('never echoes a secret value in its refusal', () => {
    expect(() => loadConfig({ JWT_SECRET: 'tooshort-secret-value' })).toThrow(/JWT_SECRET=\(value hidden\): must be at least 32 characters/);
    try {
      loadConfig({ ADMIN_PASSWORD: 'short-pw', JWT_SECRET: 'tooshort-secret-value' });
    } catch (err) {
      expect((err as Error).message).not.toMatch(/short-pw|tooshort-secret-value/);
    }
  });

  it('takes REQUIRE_2FA_ROLES as known roles and names any unknown one; TOTP_SECRET_KEY is hidden', () => {
    expect(loadConfig({}).REQUIRE_2FA_ROLES).toBeUndefined();
    expect(loadConfig({ REQUIRE_2FA_ROLES: ' admin, doctor,admin ' }).REQUIRE_2FA_ROLES).toEqual(['admin', 'doctor']);
    expect(() => loadConfig({ REQUIRE_2FA_ROLES: 'admin,docter' })).toThrow(
      /REQUIRE_2FA_ROLES="admin,docter": 'docter' is not a role: must be roles separated by commas, e\.g\. 'admin,doctor' \(roles: admin, doctor, nurse, front-desk, pharmacist, lab, patient, kiosk\)/,
    );
    expect(() => loadConfig({ REQUIRE_2FA_ROLES: 'root;nurse' })).toThrow(/'root;nurse' is not a role/);
    expect(() => loadConfig({ REQUIRE_2FA_ROLES: ',' })).toThrow(/REQUIRE_2FA_ROLES=",": names no role/);
    expect(() => loadConfig({ TOTP_SECRET_KEY: 'short-totp-key' })).toThrow(/TOTP_SECRET_KEY=\(value hidden\): must be at least 32 characters/);
  });

  it('trusts no proxy by default; TRUST_PROXY names addresses, CIDRs or presets', () => {
    expect(loadConfig({}).TRUST_PROXY).toBeUndefined();
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,loopback,::1' }).TRUST_PROXY).toEqual(['10.0.0.5', '10.1.0.0/16', 'loopback', '::1']);
  });

  it('accepts port 0 (any free port) and treats empty variables as unset', () => {
    expect(loadConfig({ HTTP_PORT: '0', MQTT_PORT: '', DATABASE_URL: '' })).toMatchObject({ HTTP_PORT: 0, MQTT_PORT: 1883 });
  });

  it.each([
    [{ HTTP_PORT: 'eighty' }, /HTTP_PORT="eighty": must be a number/],
    [{ MQTT_PORT: '70000' }, /MQTT_PORT="70000": must be 0 \(any free port\) to 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL="mysql:\/\/x": must be a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ ADMIN_EMAIL: 'nobody' }, /ADMIN_EMAIL="nobody": must be an e-mail address/],
    [{ ADMIN_PASSWORD: 'short' }, /ADMIN_PASSWORD=.*at least 10 characters/],
    [{ JWT_SECRET: 'x' }, /JWT_SECRET=.*at least 32 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
    [{ VITALS_RETAIN_FOR: 'forever' }, /VITALS_RETAIN_FOR="forever": must look like '7 days' or be 'off'/],
    [{ TRUST_PROXY: 'any' }, /TRUST_PROXY="any": must be addresses or CIDRs/],
    [{ TRUST_PROXY: '10.0.0.1/40' }, /TRUST_PROXY="10.0.0.1\/40": must be addresses or CIDRs/],
    [{ INGEST_ERRORS_RETAIN_FOR: 'a month' }, /INGEST_ERRORS_RETAIN_FOR="a month": must look like '7 days' or be 'off'/],
    [{ MQTT_PREAUTH_MAX_BYTES: '100' }, /MQTT_PREAUTH_MAX_BYTES="100"/],
    [{ MQTT_MAX_CONNECTIONS_PER_DEVICE: '0' }, /MQTT_MAX_CONNECTIONS_PER_DEVICE="0"/],
    [{ DEVICE_LOCKOUT_S: '600', DEVICE_LOCKOUT_MAX_S: '60' }, /DEVICE_LOCKOUT_MAX_S="60": must be at least DEVICE_LOCKOUT_S \(600\)/],
  ])('refuses %o with a precise message', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('bounds the MQTT broker before login by default (issue 11, findings 1, 3, 4, 9)', () => {
    expect(loadConfig({})).toMatchObject({
      MQTT_AUTH_TIMEOUT_S: 10,
      MQTT_PREAUTH_MAX_BYTES: 8192,
      MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: 100,
      MQTT_MAX_CONNECTIONS_PER_DEVICE: 4,
      DEVICE_AUTH_MAX_FAILURES: 10,
      DEVICE_LOCKOUT_S: 60,
      DEVICE_LOCKOUT_MAX_S: 3600,
      INGEST_ERRORS_RETAIN_FOR: '30 days',
    });
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ HTTP_PORT: '-1', LOG_LEVEL: 'x' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  it('turns online payment on only with the provider key pair, never sending its secret over plain http', () => {
    expect(loadConfig({})).toMatchObject({ PAYMENT_PROVIDER_URL: 'https://api.razorpay.com', PAYMENT_CURRENCY: 'EUR', PAYMENT_PROVIDER_TIMEOUT_MS: 10_000 });
    expect(loadConfig({}).PAYMENT_KEY_ID).toBeUndefined();
    const pair = { PAYMENT_KEY_ID: 'rzp_test_abc', PAYMENT_KEY_SECRET: 'a-provider-secret-of-24c' };
    expect(loadConfig({ ...pair, PAYMENT_PROVIDER_URL: 'http://127.0.0.1:9999' })).toMatchObject(pair);
    expect(() => loadConfig({ PAYMENT_KEY_ID: 'rzp_test_abc' })).toThrow(/PAYMENT_KEY_SECRET="": set PAYMENT_KEY_ID and PAYMENT_KEY_SECRET together, or neither/);
    expect(() => loadConfig({ PAYMENT_KEY_SECRET: pair.PAYMENT_KEY_SECRET })).toThrow(/PAYMENT_KEY_ID="": set PAYMENT_KEY_ID and PAYMENT_KEY_SECRET together/);
    expect(() => loadConfig({ PAYMENT_WEBHOOK_SECRET: 'a-webhook-secret-0123' })).toThrow(/PAYMENT_WEBHOOK_SECRET: only with PAYMENT_KEY_ID and PAYMENT_KEY_SECRET/);
    expect(() => loadConfig({ ...pair, PAYMENT_PROVIDER_URL: 'http://payments.example.org' })).toThrow(/PAYMENT_PROVIDER_URL="http:\/\/payments.example.org": must be https:\/\//);
    expect(() => loadConfig({ PAYMENT_CURRENCY: 'euro' })).toThrow(/PAYMENT_CURRENCY="euro": must be an ISO 4217 code/);
  });

  it('keeps reports on the local disk by default; REPORTS_STORAGE=s3 needs a bucket and the key pair together (issue 15)', () => {
    expect(loadConfig({})).toMatchObject({ REPORTS_STORAGE: 'local', S3_REGION: 'us-east-1', S3_TIMEOUT_MS: 10_000 });
    const s3 = { REPORTS_STORAGE: 's3', S3_BUCKET: 'ward-reports', S3_ENDPOINT: 'https://minio.hospital.internal:9000', S3_ACCESS_KEY_ID: 'wardpulse', S3_SECRET_ACCESS_KEY: 'a-long-s3-secret-key' };
    const c = loadConfig(s3);
    expect(c).toMatchObject(s3);
    expect(s3ForcePathStyle(c)).toBe(true);
    expect(s3ForcePathStyle(loadConfig({ ...s3, S3_FORCE_PATH_STYLE: 'false' }))).toBe(false);
    // AWS itself (no endpoint), credentials from the SDK's chain (instance role): virtual-hosted style.
    const aws = loadConfig({ REPORTS_STORAGE: 's3', S3_BUCKET: 'ward-reports', S3_REGION: 'eu-west-2' });
    expect(s3ForcePathStyle(aws)).toBe(false);
    expect(() => loadConfig({ REPORTS_STORAGE: 's3' })).toThrow(/S3_BUCKET="": required when REPORTS_STORAGE=s3/);
    expect(() => loadConfig({ ...s3, S3_SECRET_ACCESS_KEY: '' })).toThrow(/S3_SECRET_ACCESS_KEY="": set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither/);
    expect(() => loadConfig({ ...s3, S3_ACCESS_KEY_ID: '' })).toThrow(/S3_ACCESS_KEY_ID="": set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together/);
    expect(() => loadConfig({ REPORTS_STORAGE: 'nfs' })).toThrow(/REPORTS_STORAGE="nfs": must be 'local' or 's3'/);
    expect(() => loadConfig({ ...s3, S3_BUCKET: 'Ward_Reports' })).toThrow(/S3_BUCKET="Ward_Reports": must be a bucket name/);
    // Patient files never in clear to another host; plain http only to this one.
    expect(() => loadConfig({ ...s3, S3_ENDPOINT: 'http://minio.hospital.internal:9000' })).toThrow(/S3_ENDPOINT="http:\/\/minio.hospital.internal:9000": must be https:\/\/ \(patient files travel to it\); plain http only to localhost/);
    expect(loadConfig({ ...s3, S3_ENDPOINT: 'http://127.0.0.1:4568' }).S3_ENDPOINT).toBe('http://127.0.0.1:4568');
    expect(() => loadConfig({ ...s3, S3_ENDPOINT: 'https://user:pw@minio.hospital.internal' })).toThrow(/S3_ENDPOINT: must not hold credentials/);
  });

  it('refuses S3 settings while reports stay on the local disk, without echoing the secret', () => {
    try {
      loadConfig({ S3_BUCKET: 'ward-reports', S3_SECRET_ACCESS_KEY: 'a-long-s3-secret-key' });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toEqual([
        'S3_BUCKET: only with REPORTS_STORAGE=s3 (reports are on the local disk, DATA_DIR/reports)',
        'S3_SECRET_ACCESS_KEY: only with REPORTS_STORAGE=s3 (reports are on the local disk, DATA_DIR/reports) (the value is not shown)',
      ]);
    }
    try {
      loadConfig({ REPORTS_STORAGE: 's3', S3_BUCKET: 'ward-reports', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 'leaked'.repeat(100) });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).message).toContain('S3_SECRET_ACCESS_KEY=(value hidden): must be at most 500 characters');
      expect((err as ConfigError).message).not.toContain('leaked');
    }
  });

  it('takes the anonymous-devices flag from the command line and refuses unknown flags', () => {
    expect(loadConfig({}, ['--allow-anonymous-devices']).ALLOW_ANONYMOUS_DEVICES).toBe(true);
    expect(() => loadConfig({}, ['--open-the-gates'])).toThrow(/unknown option --open-the-gates/);
  });
});

describe('loadConfig: cluster mode (CLUSTER_NATS_URL, ADR 0026)', () => {
  const node = {
    CLUSTER_NATS_URL: 'nats://10.0.0.11:4222, nats://10.0.0.12:4222,nats://10.0.0.13:4222',
    DATABASE_URL: 'postgres://wardpulse@db:5432/wardpulse',
    JWT_SECRET: 'a-shared-token-key-of-32-characters-or-more',
    CLUSTER_REDIS_URL: 'redis://redis:6379',
  };
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('is off by default, with the cluster defaults in place for when it is on', () => {
    const c = loadConfig({});
    expect(c.CLUSTER_NATS_URL).toBeUndefined();
    expect(c).toMatchObject({ CLUSTER_PARTITIONS: 16, CLUSTER_LEASE_S: 5, CLUSTER_REPLICAS: 3 });
  });

  it('takes a node with NATS, a shared PostgreSQL, a shared token key and Redis', () => {
    const c = loadConfig({ ...node, CLUSTER_NODE_ID: 'ward-node-1', CLUSTER_PARTITIONS: '64', CLUSTER_LEASE_S: '10', CLUSTER_REPLICAS: '1' });
    expect(c.CLUSTER_NATS_URL).toEqual(['nats://10.0.0.11:4222', 'nats://10.0.0.12:4222', 'nats://10.0.0.13:4222']);
    expect(c).toMatchObject({ CLUSTER_NODE_ID: 'ward-node-1', CLUSTER_PARTITIONS: 64, CLUSTER_LEASE_S: 10, CLUSTER_REPLICAS: 1 });
    expect(loadConfig({ ...node, CLUSTER_NATS_URL: 'tls://wp:pw@nats-1:4222,tls://nats-2:4222', CLUSTER_REDIS_URL: 'rediss://:pw@redis:6380' }).CLUSTER_NATS_URL).toHaveLength(2);
  });

  it('lists everything a cluster node lacks at once: the database, the token key, Redis', () => {
    expect(problemsOf({ CLUSTER_NATS_URL: node.CLUSTER_NATS_URL })).toEqual([
      expect.stringMatching(/^DATABASE_URL="": required with CLUSTER_NATS_URL \(every node uses the same PostgreSQL; the embedded database cannot be shared\)/),
      expect.stringMatching(/^JWT_SECRET="": required with CLUSTER_NATS_URL \(the same on every node/),
      expect.stringMatching(/^CLUSTER_REDIS_URL="": required with CLUSTER_NATS_URL/),
    ]);
    expect(problemsOf({ ...node, DATABASE_URL: '' })).toEqual([expect.stringMatching(/^DATABASE_URL="": required with CLUSTER_NATS_URL/)]);
    expect(problemsOf({ ...node, JWT_SECRET: undefined })).toEqual([expect.stringMatching(/^JWT_SECRET="": required with CLUSTER_NATS_URL/)]);
    expect(problemsOf({ ...node, CLUSTER_REDIS_URL: undefined })).toEqual([expect.stringMatching(/^CLUSTER_REDIS_URL="": required with CLUSTER_NATS_URL/)]);
  });

  it('refuses the other cluster settings without CLUSTER_NATS_URL (a node that thinks it is in a cluster and is not)', () => {
    expect(problemsOf({ CLUSTER_REDIS_URL: 'redis://redis:6379', CLUSTER_NODE_ID: 'n1' })).toEqual([
      'CLUSTER_REDIS_URL: only with CLUSTER_NATS_URL (cluster mode)',
      'CLUSTER_NODE_ID: only with CLUSTER_NATS_URL (cluster mode)',
    ]);
  });

  it('refuses tls:// mixed with nats://, and different credentials per server', () => {
    expect(problemsOf({ ...node, CLUSTER_NATS_URL: 'tls://nats-1:4222,nats://nats-2:4222' })).toEqual([expect.stringMatching(/^CLUSTER_NATS_URL: tls:\/\/ and nats:\/\/ mixed/)]);
    expect(problemsOf({ ...node, CLUSTER_NATS_URL: 'nats://a:x@nats-1:4222,nats://b:y@nats-2:4222' })).toEqual([expect.stringMatching(/^CLUSTER_NATS_URL: the URLs carry different credentials/)]);
  });

  it.each([
    [{ CLUSTER_NATS_URL: 'http://nats:4222' }, /CLUSTER_NATS_URL="http:\/\/nats:4222": must be nats:\/\/host:port URLs separated by commas/],
    [{ CLUSTER_NATS_URL: 'nats://nats:4222/' }, /CLUSTER_NATS_URL="nats:\/\/nats:4222\/": must be nats:\/\/host:port URLs/],
    [{ CLUSTER_NATS_URL: ' , ' }, /CLUSTER_NATS_URL=" , ": must be nats:\/\/host:port URLs/],
    [{ CLUSTER_NODE_ID: 'node 1' }, /CLUSTER_NODE_ID="node 1": must be 1–64 letters, digits or _ \. : -/],
    [{ CLUSTER_REDIS_URL: 'http://redis' }, /CLUSTER_REDIS_URL="http:\/\/redis": must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ CLUSTER_PARTITIONS: '0' }, /CLUSTER_PARTITIONS="0"/],
    [{ CLUSTER_PARTITIONS: '2048' }, /CLUSTER_PARTITIONS="2048"/],
    [{ CLUSTER_LEASE_S: '1' }, /CLUSTER_LEASE_S="1"/],
    [{ CLUSTER_REPLICAS: '7' }, /CLUSTER_REPLICAS="7"/],
  ])('refuses %o with a precise message', (env, message) => {
    expect(() => loadConfig({ ...node, ...env } as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('never echoes the password of a URL in its refusal', () => {
    const problems = problemsOf({ ...node, CLUSTER_NATS_URL: 'nats://wardpulse:s3cret-nats-pw@nats:4222/', CLUSTER_REDIS_URL: 'http://:s3cret-redis-pw@redis' });
    expect(problems).toEqual([
      'CLUSTER_NATS_URL="nats://wardpulse:***@nats:4222/": must be nats://host:port URLs separated by commas',
      'CLUSTER_REDIS_URL="http://:***@redis": must be a redis:// or rediss:// URL',
    ]);
  });
});
