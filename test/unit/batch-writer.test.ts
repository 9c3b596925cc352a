// The bounded, retrying batch writer: order kept, transient failures retried, permanent ones
// counted, overflow counted, back-pressure released when the buffer drains, flush on close.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BatchWriter, isTransient } from '../../db/batch-writer.ts';
import { DbError } from '../../db/driver.ts';

const log = pino({ level: 'silent' });

function writer(opts: { fail?: (batch: number[], attempt: number) => Error | null; maxBuffered?: number; batchSize?: number } = {}) {
  const written: number[][] = [];
  const dropped: { count: number; reason: string }[] = [];
  let attempt = 0;
  const w = new BatchWriter<number>({
    name: 't',
    batchSize: opts.batchSize ?? 3,
    flushMs: 5,
    maxBuffered: opts.maxBuffered ?? 1000,
    log,
    write: async (batch) => {
      const err = opts.fail?.(batch, ++attempt) ?? null;
      if (err) throw err;
      written.push(batch);
      return batch.length;
    },
    onDrop: (count, reason) => dropped.push({ count, reason }),
  });
  return { w, written, dropped };
}

describe('BatchWriter', () => {
  it('writes in order, in batches no larger than batchSize', async () => {
    const { w, written } = writer();
    for (let i = 0; i < 8; i++) w.push(i);
    await w.close();
    expect(written.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Math.max(...written.map((b) => b.length))).toBeLessThanOrEqual(3);
  });

  it('keeps rows through transient failures (connection refused) and writes them later', async () => {
    const { w, written, dropped } = writer({ fail: (_b, n) => (n <= 4 ? new DbError('connect ECONNREFUSED', 'ECONNREFUSED') : null) });
    w.start();
    for (let i = 0; i < 5; i++) w.push(i);
    await w.close();
    expect(written.flat()).toEqual([0, 1, 2, 3, 4]);
    expect(dropped).toEqual([]);
  });

  it('isolates the one row the database refuses for its content, drops only it (counted), and goes on', async () => {
    const { w, written, dropped } = writer({ fail: (b) => (b.includes(1) ? new DbError('invalid input', '22P02') : null) });
    for (let i = 0; i < 6; i++) w.push(i);
    await w.close();
    expect(written.flat()).toEqual([0, 2, 3, 4, 5]);
    expect(dropped).toEqual([{ count: 1, reason: 'write refused: invalid input' }]);
  });

  it('counts what does not fit in the buffer', () => {
    const { w, dropped } = writer({ maxBuffered: 1000, batchSize: 10_000 });
    for (let i = 0; i < 1002; i++) w.push(i);
    expect(w.depth).toBe(1000);
    expect(dropped).toEqual([
      { count: 1, reason: 'write buffer full' },
      { count: 1, reason: 'write buffer full' },
    ]);
  });

  it('applies back-pressure near the top and releases it once the buffer drains', async () => {
    let open = false;
    const { w } = writer({ maxBuffered: 1000, batchSize: 500, fail: () => (open ? null : new DbError('down', '57P01')) });
    for (let i = 0; i < 950; i++) w.push(i);
    const wait = w.whenWritable(60_000);
    expect(wait).not.toBeNull();
    let released = false;
    void wait!.then(() => (released = true));
    w.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toBe(false);
    open = true;
    await w.flush();
    await wait;
    expect(released).toBe(true);
    expect(w.whenWritable()).toBeNull();
    await w.close();
  });

  it('classifies errors: only data and integrity refusals are permanent', () => {
    expect(isTransient(new DbError('x', 'ECONNRESET'))).toBe(true);
    expect(isTransient(new DbError('x', '57P01'))).toBe(true);
    expect(isTransient(new DbError('x', '08006'))).toBe(true);
    expect(isTransient(new DbError('x'))).toBe(true);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false); // a bug, not the database
    expect(isTransient(new DbError('x', '23505'))).toBe(false);
    expect(isTransient(new DbError('x', '22003'))).toBe(false);
  });
});

describe('BatchWriter spill to disk', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function spillWriter(dir: string, opts: { up: () => boolean; maxBytes?: number; written: number[]; dropped: number[] }) {
    return new BatchWriter<{ n: number }>({
      name: 'vitals',
      batchSize: 50,
      flushMs: 5,
      maxBuffered: 100,
      log,
      spill: { dir, maxBytes: opts.maxBytes ?? 1024 * 1024, fileBytes: 2048 },
      write: async (batch) => {
        if (!opts.up()) throw new DbError('connect ECONNREFUSED', 'ECONNREFUSED');
        opts.written.push(...batch.map((r) => r.n));
        return batch.length;
      },
      onDrop: (count) => opts.dropped.push(count),
    });
  }
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'spill-'));
    dirs.push(d);
    return d;
  };

  it('spills what does not fit in memory while the database is down, replays it when it returns, then deletes the files', async () => {
    const dir = tmp();
    let up = false;
    const written: number[] = [];
    const dropped: number[] = [];
    const w = spillWriter(dir, { up: () => up, written, dropped });
    w.start();
    for (let i = 0; i < 1000; i++) expect(w.push({ n: i })).toBe(true);
    expect(w.whenWritable()).toBeNull(); // the spill has room: no back-pressure
    await new Promise((r) => setTimeout(r, 30));
    expect(readdirSync(dir).length).toBeGreaterThan(1); // rotated
    up = true;
    expect(await w.flush()).toBe(true);
    expect([...written].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(dropped).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    await w.close();
  });

  it('counts what exceeds the spill bound', async () => {
    const dir = tmp();
    const dropped: number[] = [];
    const w = spillWriter(dir, { up: () => false, maxBytes: 1000, written: [], dropped });
    for (let i = 0; i < 300; i++) w.push({ n: i });
    await w.close(50);
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(w.spilledBytes).toBeLessThanOrEqual(1000);
  });

  it('keeps unwritten rows on disk at shutdown and replays them after a restart', async () => {
    const dir = tmp();
    const dropped: number[] = [];
    const first = spillWriter(dir, { up: () => false, written: [], dropped });
    first.start();
    for (let i = 0; i < 250; i++) first.push({ n: i });
    await first.close(100);
    expect(dropped).toEqual([]);
    expect(readdirSync(dir).length).toBeGreaterThan(0);

    const written: number[] = [];
    const second = spillWriter(dir, { up: () => true, written, dropped });
    second.start();
    second.push({ n: 250 });
    expect(await second.flush()).toBe(true);
    expect([...written].sort((a, b) => a - b)).toEqual(Array.from({ length: 251 }, (_, i) => i));
    expect(readdirSync(dir)).toEqual([]);
    await second.close();
  });

  it('skips a torn last line left by a crash (counted) and replays the rest', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'vitals-000000000000001-000000.ndjson'), '{"n":1}\n{"n":2}\n{"n":');
    const written: number[] = [];
    const dropped: number[] = [];
    const w = spillWriter(dir, { up: () => true, written, dropped });
    w.start();
    expect(await w.flush()).toBe(true);
    expect(written).toEqual([1, 2]);
    expect(dropped).toEqual([1]);
    await w.close();
  });
});

// ADR 0023: a row pushed with an acknowledgement is answered once it is durable — committed, or
// fsync'ed to the spill while the database fails or is slow — and answered `false` if it never
// will be stored. Group commit: one write answers every row it carried.
describe('BatchWriter acknowledgements', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ack-'));
    dirs.push(d);
    return d;
  };
  function ackWriter(opts: { write: (batch: { n: number }[]) => Promise<number>; spillDir?: string; maxBytes?: number; spillAfterMs?: number }) {
    let writes = 0;
    const w = new BatchWriter<{ n: number }>({
      name: 'vitals',
      batchSize: 100,
      flushMs: 5,
      maxBuffered: 10_000,
      log,
      ...(opts.spillDir ? { spill: { dir: opts.spillDir, maxBytes: opts.maxBytes ?? 1024 * 1024 } } : {}),
      spillAfterMs: opts.spillAfterMs ?? 50,
      write: (batch) => {
        writes++;
        return opts.write(batch);
      },
    });
    return { w, writes: () => writes };
  }

  it('answers true once the row is committed, not before; one write answers the whole batch', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const { w, writes } = ackWriter({ write: async (b) => (await gate, b.length) });
    w.start();
    const acks = Array.from({ length: 50 }, (_, n) => w.pushDurable({ n }));
    let answered = 0;
    for (const a of acks) void a.then(() => answered++);
    await new Promise((r) => setTimeout(r, 30));
    expect(answered).toBe(0); // the write is in flight, not committed
    release();
    expect(await Promise.all(acks)).toEqual(acks.map(() => true));
    expect(writes()).toBe(1);
    await w.close();
  });

  it('answers false for a row the database refuses for its content, true for the rest', async () => {
    const { w } = ackWriter({ write: async (b) => { if (b.some((r) => r.n === 2)) throw new DbError('invalid input', '22P02'); return b.length; } });
    w.start();
    const acks = Array.from({ length: 5 }, (_, n) => w.pushDurable({ n }));
    expect(await Promise.all(acks)).toEqual([true, true, false, true, true]);
    await w.close();
  });

  it('while the database is down, answers true once the rows are fsync\'ed to the spill, and stores them when it returns', async () => {
    const dir = tmp();
    let up = false;
    const stored: number[] = [];
    const { w } = ackWriter({ spillDir: dir, write: async (b) => { if (!up) throw new DbError('connect ECONNREFUSED', 'ECONNREFUSED'); stored.push(...b.map((r) => r.n)); return b.length; } });
    w.start();
    const acks = Array.from({ length: 300 }, (_, n) => w.pushDurable({ n }));
    expect(await Promise.all(acks)).toEqual(acks.map(() => true));
    expect(stored).toEqual([]);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    up = true;
    expect(await w.flush()).toBe(true);
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    await w.close();
  });

  it('a write slower than spillAfterMs: the rows behind it go to the spill and are answered; each row is stored once', async () => {
    const dir = tmp();
    let slow = true;
    const stored: number[] = [];
    const { w } = ackWriter({ spillDir: dir, spillAfterMs: 30, write: async (b) => { if (slow) await new Promise((r) => setTimeout(r, 300)); stored.push(...b.map((r) => r.n)); return b.length; } });
    w.start();
    const first = w.pushDurable({ n: 0 });
    await new Promise((r) => setTimeout(r, 10)); // the first row is in flight
    const behind = Array.from({ length: 20 }, (_, i) => w.pushDurable({ n: i + 1 }));
    const started = Date.now();
    expect(await Promise.all(behind)).toEqual(behind.map(() => true));
    expect(Date.now() - started).toBeLessThan(250); // answered from the spill, not after the slow write
    expect(await first).toBe(true);
    slow = false;
    expect(await w.flush()).toBe(true);
    expect([...stored].sort((a, b) => a - b)).toEqual(Array.from({ length: 21 }, (_, n) => n));
    await w.close();
  });

  it('answers false for what neither memory nor the spill can keep', async () => {
    const dir = tmp();
    const { w } = ackWriter({ spillDir: dir, maxBytes: 200, write: async () => { throw new DbError('connect ECONNREFUSED', 'ECONNREFUSED'); } });
    w.start();
    const acks = await Promise.all(Array.from({ length: 50 }, (_, n) => w.pushDurable({ n })));
    expect(acks.filter((a) => a).length).toBeGreaterThan(0);
    expect(acks.filter((a) => !a).length).toBeGreaterThan(0);
    await w.close(50);
  });
});
