import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../server/metrics.ts';

describe('commit delay metrics', () => {
  let m: Metrics;
  afterEach(() => m.close());

  it('observes device readings from receipt and from measurement, skips manual ones, and reports the max once', async () => {
    m = createMetrics();
    const now = Date.now();
    m.observeCommitted([
      { ts: now - 1000, receivedAt: now - 200, source: 'device' },
      { ts: now - 60, receivedAt: now - 40, source: 'device' },
      { ts: now - 5000, receivedAt: now - 5000, source: 'manual' },
    ]);
    type Value = { metricName?: string; labels: Record<string, string | number>; value: number };
    const h = (await m.registry.getSingleMetric('wardpulse_reading_commit_delay_seconds')!.get()).values as Value[];
    const count = (from: string) => h.find((v) => v.metricName === 'wardpulse_reading_commit_delay_seconds_count' && v.labels.from === from)?.value;
    expect(count('receipt')).toBe(2);
    expect(count('measurement')).toBe(2);
    // Both device readings from receipt are under 0.25 s; from measurement one is about 1 s.
    const bucket = (from: string, le: number) => h.find((v) => v.metricName?.endsWith('_bucket') && v.labels.from === from && v.labels.le === le)?.value;
    expect(bucket('receipt', 0.25)).toBe(2);
    expect(bucket('measurement', 0.25)).toBe(1);

    const max = m.registry.getSingleMetric('wardpulse_reading_commit_delay_max_seconds')!;
    const first = (await max.get()).values[0]!.value;
    expect(first).toBeGreaterThanOrEqual(0.2);
    expect(first).toBeLessThan(1);
    // Reset by the scrape: the next one reports only what came after.
    expect((await max.get()).values[0]!.value).toBe(0);
  });
});
