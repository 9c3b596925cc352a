// `npm run simulate` beside `npm run demo`: the same environment (ports, admin login, DATA_DIR),
// the demo's admin as a fallback for --provision, and a message naming the exact command when there
// is no fleet file (simulator/demo-files.ts, simulator/args.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../simulator/args.ts';
import { adminFromEnv, demoAdmin, demoDir, envPort, missingFleetMessage, readDemoAdmin } from '../../simulator/demo-files.ts';

const demoLogin = { email: 'admin@wardpulse.local', password: 'kept-demo-password' };

describe('simulate: ports from the environment', () => {
  it('defaults --url and --mqtt to HTTP_PORT and MQTT_PORT, as the server and the demo read them', () => {
    expect(parseCliArgs([], { HTTP_PORT: '18190', MQTT_PORT: '18993' })).toMatchObject({
      ok: true,
      options: { url: 'http://127.0.0.1:18190', mqtt: 'mqtt://127.0.0.1:18993', urlGiven: false },
    });
    expect(parseCliArgs([], {})).toMatchObject({ ok: true, options: { url: 'http://127.0.0.1:8080', mqtt: 'mqtt://127.0.0.1:1883' } });
    expect(parseCliArgs(['--mqtt', 'ws://h:1/mqtt'], { MQTT_PORT: '18993' })).toMatchObject({ ok: true, options: { mqtt: 'ws://h:1/mqtt' } });
  });

  it('refuses a port that is no port, naming the variable', () => {
    const r = parseCliArgs([], { MQTT_PORT: 'abc' });
    expect(r).toEqual({ ok: false, message: 'MQTT_PORT="abc": must be a port number from 1 to 65535' });
    expect(() => envPort('HTTP_PORT', '0', 8080)).toThrow(/HTTP_PORT="0"/);
    expect(envPort('HTTP_PORT', ' ', 8080)).toBe(8080);
  });
});

describe('simulate --provision: the admin login', () => {
  it('takes ADMIN_PASSWORD alone, with the server default e-mail', () => {
    expect(parseCliArgs(['--provision'], { ADMIN_PASSWORD: 'pw' })).toMatchObject({
      ok: true,
      options: { adminEmail: 'admin@wardpulse.local', adminPassword: 'pw', adminFrom: 'environment' },
    });
    expect(adminFromEnv({ ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'x' })).toEqual({ email: 'a@b.c', password: 'x' });
    expect(adminFromEnv({ ADMIN_EMAIL: 'a@b.c' })).toBeNull();
  });

  it('prefers flags, then the environment, then the demo admin', () => {
    const local = { demoAdmin: demoLogin };
    expect(parseCliArgs(['--provision', '--admin-email', 'f@x.y', '--admin-password', 'fp'], { ADMIN_PASSWORD: 'pw' }, local)).toMatchObject({
      ok: true,
      options: { adminEmail: 'f@x.y', adminPassword: 'fp', adminFrom: 'flags' },
    });
    expect(parseCliArgs(['--provision'], { ADMIN_EMAIL: 'e@x.y', ADMIN_PASSWORD: 'pw' }, local)).toMatchObject({ ok: true, options: { adminEmail: 'e@x.y', adminFrom: 'environment' } });
    expect(parseCliArgs(['--provision'], {}, local)).toMatchObject({ ok: true, options: { ...{ adminEmail: demoLogin.email, adminPassword: demoLogin.password }, adminFrom: 'demo' } });
    // An e-mail without a password is not completed with the demo's password.
    const half = parseCliArgs(['--provision', '--admin-email', 'other@x.y'], {}, local);
    expect(half.ok).toBe(false);
    if (!half.ok) expect(half.message).toMatch(/ADMIN_PASSWORD/);
  });
});

describe('the demo admin (simulator/demo-files.ts)', () => {
  it('is created from ADMIN_EMAIL/ADMIN_PASSWORD on the first run, or generated', () => {
    expect(demoAdmin(null, { ADMIN_PASSWORD: 'chosen-password' }, () => 'gen')).toEqual({ admin: { email: 'admin@wardpulse.local', password: 'chosen-password' }, created: true, note: null });
    expect(demoAdmin(null, {}, () => 'gen')).toEqual({ admin: { email: 'admin@wardpulse.local', password: 'gen' }, created: true, note: null });
  });

  it('is kept on later runs; a different ADMIN_PASSWORD gets a note, not a failed login', () => {
    expect(demoAdmin(demoLogin, {}, () => 'gen')).toEqual({ admin: demoLogin, created: false, note: null });
    expect(demoAdmin(demoLogin, { ADMIN_PASSWORD: demoLogin.password }, () => 'gen').note).toBeNull();
    expect(demoAdmin(demoLogin, { ADMIN_PASSWORD: 'other' }, () => 'gen')).toMatchObject({ admin: demoLogin, created: false, note: expect.stringMatching(/differ/) });
  });

  it('is read from $DATA_DIR/demo-admin.json, default data/demo', () => {
    expect(demoDir({})).toBe(join('data', 'demo'));
    const dir = mkdtempSync(join(tmpdir(), 'wp-demo-'));
    expect(demoDir({ DATA_DIR: dir })).toBe(dir);
    expect(readDemoAdmin(dir)).toBeNull();
    writeFileSync(join(dir, 'demo-admin.json'), JSON.stringify(demoLogin));
    expect(readDemoAdmin(dir)).toEqual(demoLogin);
    writeFileSync(join(dir, 'demo-admin.json'), '{ not json');
    expect(readDemoAdmin(dir)).toBeNull();
  });
});

describe('no fleet file', () => {
  it("beside the demo, says not to borrow its devices and gives the command for a ward of one's own", () => {
    const text = missingFleetMessage('.simulator/fleet-A.json', 'A', { dir: 'data/demo', fleet: true, admin: true });
    expect(text).toMatch(/^no fleet file at \.simulator\/fleet-A\.json/);
    expect(text).toMatch(/data\/demo\/fleet-A\.json\) is simulated by npm run demo itself/);
    expect(text).toContain('npm run simulate -- --provision --ward B');
    expect(text).toContain('data/demo/demo-admin.json');
  });

  it('without a demo, says how to provision', () => {
    const text = missingFleetMessage('.simulator/fleet-C.json', 'C', { dir: 'data/demo', fleet: false, admin: false });
    expect(text).toContain('npm run simulate -- --provision --ward C');
    expect(text).toContain('--anonymous');
  });
});
