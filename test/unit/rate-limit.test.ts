// The per-device token bucket: burst, sustained rate, one report per second, disconnect after a
// sustained flood, and independence between devices.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../broker/rate-limit.ts';

describe('RateLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    const l = new RateLimiter({ ratePerS: 20, burst: 100 });
    let ok = 0;
    for (let i = 0; i < 150; i++) if (l.check('d', 0).ok) ok++;
    expect(ok).toBe(100);
    // One second later: 20 more tokens.
    ok = 0;
    for (let i = 0; i < 50; i++) if (l.check('d', 1000).ok) ok++;
    expect(ok).toBe(20);
  });

  it('never refuses a device sending within its rate', () => {
    const l = new RateLimiter({ ratePerS: 20, burst: 100 });
    for (let t = 0; t < 60_000; t += 50) expect(l.check('d', t).ok).toBe(true);
  });

  it('reports at most once a second, with the count dropped since the last report', () => {
    const l = new RateLimiter({ ratePerS: 1, burst: 1 });
    l.check('d', 0);
    const reports: number[] = [];
    for (let t = 0; t < 2500; t += 10) {
      const v = l.check('d', t);
      if (!v.ok && v.report > 0) reports.push(v.report);
    }
    expect(reports.length).toBe(3); // at 0, 1000, 2000 ms
    expect(reports[0]).toBe(1);
    expect(reports[1]).toBeGreaterThan(90);
  });

  it('disconnects a device still flooding after 10 s, not before', () => {
    const l = new RateLimiter({ ratePerS: 20, burst: 100 });
    let firstDisconnect: number | null = null;
    for (let t = 0; t <= 12_000 && firstDisconnect === null; t += 1) {
      // 2000 msg/s: 100x the rate.
      for (let k = 0; k < 2; k++) {
        const v = l.check('flood', t);
        if (!v.ok && v.disconnect) firstDisconnect = t;
      }
    }
    expect(firstDisconnect).not.toBeNull();
    expect(firstDisconnect!).toBeGreaterThanOrEqual(10_000);
    expect(firstDisconnect!).toBeLessThan(10_200);
  });

  it('forgives a flood that stopped for a second', () => {
    const l = new RateLimiter({ ratePerS: 1, burst: 1, disconnectAfterMs: 3000 });
    for (let t = 0; t < 2500; t += 10) l.check('d', t);
    // Quiet for 2 s, then a little flood again: the clock starts over.
    for (let t = 4500; t < 6000; t += 10) expect(l.check('d', t)).not.toMatchObject({ disconnect: true });
  });

  it('keeps devices independent', () => {
    const l = new RateLimiter({ ratePerS: 20, burst: 100 });
    for (let i = 0; i < 1000; i++) l.check('flood', 0);
    expect(l.check('calm', 0).ok).toBe(true);
  });
});

describe('RateLimiter.reserve (QoS 1: slowed, never refused)', () => {
  it('lets the burst through at once, then spaces the rest at the sustained rate', () => {
    const l = new RateLimiter({ ratePerS: 20, burst: 100 });
    const waits = Array.from({ length: 200 }, () => l.reserve('d', 0));
    expect(waits.slice(0, 100).every((w) => w === 0)).toBe(true);
    // The 200th message waits 100 tokens at 20/s: 5 s.
    expect(waits[100]).toBe(50);
    expect(waits[199]).toBe(5000);
    // Waits only grow: order is kept.
    for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThanOrEqual(waits[i - 1]!);
  });
});
