// Configuration is validated at start with a clear message naming the variable and the value.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('loadConfig', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ HTTP_PORT: 8080, MQTT_PORT: 1883, DATA_DIR: './data', LOG_LEVEL: 'info', ALLOW_ANONYMOUS_DEVICES: false });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('has defaults for the fault bounds (spill, device rate limit, slow live clients)', () => {
    expect(loadConfig({})).toMatchObject({ SPILL_MAX_MB: 1024, DEVICE_MAX_MSG_PER_S: 20, DEVICE_MSG_BURST: 100, LIVE_CLIENT_MAX_BUFFER_PACKETS: 1000, LIVE_CLIENT_MAX_BUFFER_KB: 8192 });
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
  ])('refuses %o with a precise message', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ HTTP_PORT: '-1', LOG_LEVEL: 'x' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toHaveLength(2);
    }
  });

  it('takes the anonymous-devices flag from the command line and refuses unknown flags', () => {
    expect(loadConfig({}, ['--allow-anonymous-devices']).ALLOW_ANONYMOUS_DEVICES).toBe(true);
    expect(() => loadConfig({}, ['--open-the-gates'])).toThrow(/unknown option --open-the-gates/);
  });
});
