// A cluster node's displays get at most one `vitals` push per tick, whatever the number of engines
// and peers pushing (server/sinks.ts, coalesceVitals): a volatile emit is dropped while the
// socket still writes the one before.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { coalesceVitals, createLiveFeed } from '../../server/sinks.ts';
import type { LivePush } from '../../server/realtime/io.ts';
import type { VitalsEvent } from '../../server/domain/events.ts';

const ev = (patientId: string, ts: number) => ({ patientId, deviceId: null, ts, at: ts, source: 'device', values: {} }) as unknown as VitalsEvent;

function recorder() {
  const vitals: VitalsEvent[][] = [];
  const other: string[] = [];
  const target: LivePush = {
    pushVitals: (b) => void vitals.push(b),
    pushScore: () => void other.push('score'),
    pushAlert: () => void other.push('alert'),
    pushDevice: () => void other.push('device'),
    pushEscalation: () => void other.push('escalation'),
  };
  return { vitals, other, target };
}

describe('coalesceVitals', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('sends the first push at once and the rest of the tick together at its end', () => {
    const feed = createLiveFeed();
    const out = coalesceVitals(feed, 100);
    const r = recorder();
    out.attach(r.target);
    feed.pushVitals([ev('a', 1)]);
    expect(r.vitals).toEqual([[ev('a', 1)]]);
    vi.advanceTimersByTime(30);
    feed.pushVitals([ev('b', 2)]);
    vi.advanceTimersByTime(30);
    feed.pushVitals([ev('c', 3), ev('d', 4)]);
    expect(r.vitals).toHaveLength(1);
    vi.advanceTimersByTime(40);
    expect(r.vitals).toEqual([[ev('a', 1)], [ev('b', 2), ev('c', 3), ev('d', 4)]]);
    // Quiet for a tick: the next push goes at once again.
    vi.advanceTimersByTime(250);
    feed.pushVitals([ev('e', 5)]);
    expect(r.vitals).toHaveLength(3);
  });

  it('never sends two vitals pushes less than a tick apart, and loses none', () => {
    const feed = createLiveFeed();
    const out = coalesceVitals(feed, 100);
    const r = recorder();
    out.attach(r.target);
    const sentAt: number[] = [];
    r.target.pushVitals = (b) => void (r.vitals.push(b), sentAt.push(Date.now()));
    let n = 0;
    for (let t = 0; t < 2000; t += 7) {
      feed.pushVitals([ev(`p${n}`, n++)]);
      vi.advanceTimersByTime(7);
    }
    vi.advanceTimersByTime(200);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(r.vitals.flat()).toHaveLength(n);
  });

  it('passes scores, alarms, device status and escalations straight through', () => {
    const feed = createLiveFeed();
    const out = coalesceVitals(feed, 100);
    const r = recorder();
    out.attach(r.target);
    feed.pushVitals([ev('a', 1)]);
    feed.pushVitals([ev('b', 2)]);
    feed.pushAlert({} as never);
    feed.pushScore({} as never);
    feed.pushDevice({} as never);
    feed.pushEscalation({} as never);
    expect(r.other).toEqual(['alert', 'score', 'device', 'escalation']);
    expect(r.vitals).toHaveLength(1);
  });

  it('stops forwarding once closed', () => {
    const feed = createLiveFeed();
    const out = coalesceVitals(feed, 100);
    const r = recorder();
    out.attach(r.target);
    feed.pushVitals([ev('a', 1)]);
    feed.pushVitals([ev('b', 2)]);
    out.close();
    vi.advanceTimersByTime(500);
    feed.pushVitals([ev('c', 3)]);
    expect(r.vitals).toEqual([[ev('a', 1)]]);
  });
});
