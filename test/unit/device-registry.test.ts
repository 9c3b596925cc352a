// The device registry's authentication (broker/device-registry.ts): lockout of a (device, address)
// pair after repeated failures and its expiry, and the cache of verified secrets that spares a
// reconnecting device the hash. Time is the `now` argument; `verifyDeviceSecret` is the real one, wrapped
// so the tests can count the hashes actually checked and hold one check mid-flight.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../broker/device-secrets.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../broker/device-secrets.ts')>();
  return { ...real, verifyDeviceSecret: vi.fn(real.verifyDeviceSecret) };
});

const { hashDeviceSecret, verifyDeviceSecret: verifySecret } = await import('../../broker/device-secrets.ts');
const { DeviceRegistry } = await import('../../broker/device-registry.ts');

const verify = vi.mocked(verifySecret);
const OPTS = { maxFailures: 3, lockoutMs: 60_000, maxLockoutMs: 600_000 };
const SECRET = 'correct-device-secret';
const T0 = 1_700_000_000_000;
const at = (ms: number) => () => ms;

function registry(secret = SECRET) {
  const r = new DeviceRegistry(OPTS);
  r.load([{ id: 'm1', secretHash: hashDeviceSecret(secret), patientId: 'p1' }]);
  return r;
}

// Braces: a function returned from beforeEach would be run as its cleanup (and the mock is one).
beforeEach(() => {
  verify.mockClear();
});

describe('lockout after repeated failures', () => {
  it('locks the (device, address) pair at the limit, reports the lock once, then refuses without a hash', async () => {
    const r = registry();
    expect(await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0))).toEqual({ ok: false, reason: 'bad credentials' });
    expect(await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 1))).toEqual({ ok: false, reason: 'bad credentials' });
    const third = await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 2));
    expect(third).toEqual({ ok: false, reason: 'bad credentials', lockout: { failures: 3, lockouts: 1, lockedForMs: 60_000, until: T0 + 2 + 60_000 } });
    expect(verify).toHaveBeenCalledTimes(3);

    // Locked: even the right secret is refused, and no hash is spent on it.
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 3))).toEqual({ ok: false, reason: 'locked out' });
    expect(await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 30_000))).toEqual({ ok: false, reason: 'locked out' });
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('locks only the pair: the device from another address is unaffected', async () => {
    const r = registry();
    for (let i = 0; i < 3; i++) await r.authenticate('m1', 'wrong', '10.0.0.66', undefined, at(T0));
    expect((await r.authenticate('m1', SECRET, '10.0.0.66', undefined, at(T0 + 1))).ok).toBe(false);
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).toEqual({ ok: true });
  });

  it('counts failures on unknown ids too, each costing a hash like a known one', async () => {
    const r = registry();
    for (let i = 0; i < 3; i++) expect((await r.authenticate('ghost', 'x', '10.0.0.9', undefined, at(T0))).ok).toBe(false);
    expect(verify).toHaveBeenCalledTimes(3);
    expect(await r.authenticate('ghost', 'x', '10.0.0.9', undefined, at(T0 + 1))).toEqual({ ok: false, reason: 'locked out' });
  });

  it('lets the pair try again when the lock runs out; a failure after that locks for twice as long', async () => {
    const r = registry();
    for (let i = 0; i < 3; i++) await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0));
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 59_999))).ok).toBe(false);
    // Expired: one more failure is enough to lock again, for 2 × 60 s.
    const again = await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 60_000));
    expect(again).toEqual({ ok: false, reason: 'bad credentials', lockout: { failures: 4, lockouts: 2, lockedForMs: 120_000, until: T0 + 180_000 } });
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 179_999))).ok).toBe(false);
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 180_000))).toEqual({ ok: true });
  });

  it('forgets the failures after a success', async () => {
    const r = registry();
    for (let i = 0; i < 2; i++) await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0));
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).ok).toBe(true);
    // Two more failures would have been the third and fourth; after the success they are the first two.
    for (let i = 0; i < 2; i++) expect(await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 2))).toEqual({ ok: false, reason: 'bad credentials' });
    expect((await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0 + 3))).ok).toBe(false);
  });

  it('uses the default limits without options (10 failures, 60 s)', async () => {
    const r = new DeviceRegistry();
    r.load([{ id: 'm1', secretHash: hashDeviceSecret(SECRET), patientId: null }]);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await r.authenticate('m1', 'wrong', '10.0.0.1', undefined, at(T0)));
    expect(results.slice(0, 9).every((x) => !x.ok && !x.lockout)).toBe(true);
    expect(results[9]).toMatchObject({ ok: false, lockout: { failures: 10, lockedForMs: 60_000 } });
  });
});

describe('the verified-secret cache', () => {
  it('verifies a correct secret once; reconnects with it are served from the cache', async () => {
    const r = registry();
    for (let i = 0; i < 5; i++) expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + i))).toEqual({ ok: true });
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('never caches a wrong secret: every attempt with it is hashed and refused', async () => {
    const r = registry();
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    for (let i = 0; i < 2; i++) expect(await r.authenticate('m1', 'wrong', '10.0.0.2', undefined, at(T0))).toEqual({ ok: false, reason: 'bad credentials' });
    expect(verify).toHaveBeenCalledTimes(3);
    // The cache still holds the right one (a wrong attempt does not evict it), and only it.
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('does not serve an old secret after a rotation: it is checked against the new hash and refused', async () => {
    const r = registry();
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    r.upsert({ id: 'm1', secretHash: hashDeviceSecret('rotated-secret'), patientId: 'p1' });
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).toEqual({ ok: false, reason: 'bad credentials' });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(await r.authenticate('m1', 'rotated-secret', '10.0.0.1', undefined, at(T0 + 2))).toEqual({ ok: true });
    expect(await r.authenticate('m1', 'rotated-secret', '10.0.0.1', undefined, at(T0 + 3))).toEqual({ ok: true });
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('keeps the cache across an update that leaves the secret alone (a reassignment)', async () => {
    const r = registry();
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    r.upsert({ ...r.get('m1')!, patientId: 'p2' });
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(r.patientOf('m1')).toBe('p2');
  });

  it('does not serve a device that is gone from the registry (reloaded without it)', async () => {
    const r = registry();
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    r.load([{ id: 'm2', secretHash: hashDeviceSecret('other'), patientId: null }]);
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).toEqual({ ok: false, reason: 'bad credentials' });
  });

  it('a reload forgets every verified secret, even of devices still provisioned', async () => {
    const r = registry();
    const hash = r.get('m1')!.secretHash;
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0))).ok).toBe(true);
    r.load([{ id: 'm1', secretHash: hash, patientId: 'p1' }]);
    expect((await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('does not cache (nor accept) a secret whose device was rotated while its check was running', async () => {
    const r = registry();
    let release!: () => void;
    const real = verify.getMockImplementation()!;
    verify.mockImplementationOnce(async (s, h) => {
      await new Promise<void>((res) => (release = res));
      return real(s, h);
    });
    const pending = r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0));
    await vi.waitFor(() => expect(verify).toHaveBeenCalledTimes(1));
    r.upsert({ id: 'm1', secretHash: hashDeviceSecret('rotated-secret'), patientId: 'p1' });
    release();
    expect(await pending).toEqual({ ok: false, reason: 'bad credentials' });
    // Not cached: the old secret is hashed again (against the new hash) and refused again.
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', undefined, at(T0 + 1))).toEqual({ ok: false, reason: 'bad credentials' });
    expect(verify).toHaveBeenCalledTimes(2);
  });

  it('spends no hash on a connection that went away while it waited', async () => {
    const r = registry();
    expect(await r.authenticate('m1', SECRET, '10.0.0.1', () => false, at(T0))).toEqual({ ok: false, reason: 'gone' });
    expect(verify).not.toHaveBeenCalled();
  });
});
