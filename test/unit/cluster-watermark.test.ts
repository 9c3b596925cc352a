// A partition's durable watermark (server/cluster/watermark.ts, ADR 0026): the stream sequence up
// to which every message's rows are stored. The owner takes messages in order, their rows commit
// out of order (batches), and a takeover replays the log from the watermark — so it must never pass
// a message whose rows are not stored, and must never hold the reading of the log back for good.
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../server/cluster/watermark.ts';

/** A row's durability promise, settled by the test. */
function row() {
  let settle!: (stored: boolean) => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<boolean>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

/** Let the promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('WatermarkTracker', () => {
  it('starts at the saved watermark and moves at once past a message that writes no row', () => {
    const w = new WatermarkTracker(41);
    expect(w.value).toBe(41);
    expect(w.complete).toBe(true);
    w.add(42, []); // a device going offline: nothing to store
    expect(w.value).toBe(42);
    expect(w.pending).toBe(0);
  });

  it('advances as messages are stored in order', async () => {
    const w = new WatermarkTracker(0);
    const rows = [row(), row(), row()];
    rows.forEach((r, i) => w.add(i + 1, [r.promise]));
    expect(w.pending).toBe(3);
    expect(w.complete).toBe(false);
    rows[0]!.settle(true);
    await flush();
    expect(w.value).toBe(1);
    rows[1]!.settle(true);
    rows[2]!.settle(true);
    await flush();
    expect(w.value).toBe(3);
    expect(w.pending).toBe(0);
    expect(w.complete).toBe(true);
  });

  it('does not pass a message still being written when later ones are stored first', async () => {
    const w = new WatermarkTracker(10);
    const [a, b, c] = [row(), row(), row()];
    w.add(11, [a.promise]);
    w.add(12, [b.promise]);
    w.add(13, [c.promise]);
    c.settle(true);
    b.settle(true);
    await flush();
    expect(w.value).toBe(10);
    expect(w.pending).toBe(1);
    a.settle(true);
    await flush();
    expect(w.value).toBe(13);
  });

  it('follows stream sequences with gaps (other partitions share the stream)', async () => {
    const w = new WatermarkTracker(3);
    const [a, b] = [row(), row()];
    w.add(7, [a.promise]);
    w.add(19, [b.promise]);
    b.settle(true);
    await flush();
    expect(w.value).toBe(3);
    a.settle(true);
    await flush();
    expect(w.value).toBe(19);
  });

  it('waits for every row of a message (a batch of readings)', async () => {
    const w = new WatermarkTracker(0);
    const [r1, r2] = [row(), row()];
    w.add(1, [r1.promise, r2.promise]);
    r1.settle(true);
    await flush();
    expect(w.value).toBe(0);
    r2.settle(true);
    await flush();
    expect(w.value).toBe(1);
  });

  it('holds the watermark before a message whose row was not stored, so a takeover replays it', async () => {
    const w = new WatermarkTracker(0);
    const [a, b, c, d] = [row(), row(), row(), row()];
    w.add(1, [a.promise]);
    w.add(2, [b.promise]);
    w.add(3, [c.promise]);
    w.add(4, [d.promise]);
    a.settle(true);
    b.settle(false); // buffer and spill full: dropped
    c.settle(true);
    d.fail(new Error('writer closed')); // a rejection counts as not stored
    await flush();
    expect(w.value).toBe(1);
    w.add(5, []);
    expect(w.value).toBe(1);
    expect(w.complete).toBe(false);
  });

  it('still moves up to a message that was not stored when the ones before it finish later', async () => {
    const w = new WatermarkTracker(0);
    const [a, b, c] = [row(), row(), row()];
    w.add(1, [a.promise]);
    w.add(2, [b.promise]);
    w.add(3, [c.promise]);
    c.settle(false);
    b.settle(true);
    await flush();
    expect(w.value).toBe(0);
    a.settle(true);
    await flush();
    expect(w.value).toBe(2);
  });

  it('keeps the lowest message not stored when a later one failed first', async () => {
    const w = new WatermarkTracker(0);
    const [a, b, c] = [row(), row(), row()];
    w.add(1, [a.promise]);
    w.add(2, [b.promise]);
    w.add(3, [c.promise]);
    c.settle(false);
    b.settle(false);
    a.settle(true);
    await flush();
    expect(w.value).toBe(1);
  });

  // Before the fix a message not stored stayed at the head of `pending` for good: every message
  // after it counted as waiting, the partition's reader stopped at 20,000 of them
  // (`await watermark.drained(10_000)` in node.ts, never resolved) and its patients were no
  // longer monitored while the node kept the lease.
  it('does not hold the reading back for good after a message that was not stored', async () => {
    const w = new WatermarkTracker(0);
    const lost = row();
    w.add(1, [lost.promise]);
    lost.settle(false);
    await flush();
    for (let seq = 2; seq <= 50; seq++) {
      const r = row();
      w.add(seq, [r.promise]);
      r.settle(true);
    }
    await flush();
    expect(w.value).toBe(0);
    expect(w.pending).toBe(0);
    let drained = false;
    void w.drained(0).then(() => (drained = true));
    await flush();
    expect(drained).toBe(true);
    expect(w.complete).toBe(false);
  });

  it('drained(n) resolves once at most n messages wait for their rows', async () => {
    const w = new WatermarkTracker(0);
    const rows = [row(), row(), row()];
    rows.forEach((r, i) => w.add(i + 1, [r.promise]));
    let below2 = false;
    let below0 = false;
    void w.drained(2).then(() => (below2 = true));
    void w.drained(0).then(() => (below0 = true));
    await flush();
    expect([below2, below0]).toEqual([false, false]);
    rows[2]!.settle(true); // out of order: still counts as no longer waiting
    await flush();
    expect([below2, below0]).toEqual([true, false]);
    rows[0]!.settle(true);
    rows[1]!.settle(false);
    await flush();
    expect(below0).toBe(true);
    await expect(w.drained(0)).resolves.toBeUndefined();
  });
});
