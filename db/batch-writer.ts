// A bounded, batched, retrying writer. Rows wait in memory; one batch at a time is written;
// while the database is unreachable rows keep waiting (up to `maxBuffered`) and are written
// when it returns. With a `spill` option, rows that do not fit in memory go to append-only files
// on disk and are replayed once the database accepts writes again (also after a restart).
// What cannot be kept is counted and logged, never silently lost.
// A row pushed with an acknowledgement callback (`push(row, ack)`) is told when it is durable:
// committed, or appended and fsync'ed to the spill. Group commit: one INSERT or one fsync answers
// every row it covered. While the database fails or a write takes longer than `spillAfterMs`,
// rows waiting for their acknowledgement are moved to the spill, so they are answered within a tick.
import type { Logger } from 'pino';
import { DbError } from './driver.ts';
import { SpillStore, type SpillOptions } from './spill.ts';

export interface BatchWriterOptions<T> {
  name: string;
  /** Write one batch; resolve with the number of rows actually stored. */
  write: (batch: T[]) => Promise<number>;
  batchSize: number;
  flushMs: number;
  maxBuffered: number;
  log: Logger;
  onCommit?: (rows: T[], stored: number, seconds: number) => void;
  onError?: (err: Error) => void;
  onDrop?: (count: number, reason: string) => void;
  onDepth?: (depth: number) => void;
  /** Overflow to disk instead of dropping (rows must survive JSON.stringify/parse). */
  spill?: SpillOptions;
  onSpill?: (count: number) => void;
  /**
   * With a spill: rows someone waits on (`push(row, ack)`) are moved to it when the database has
   * failed or the batch in flight has taken longer than this (default 1000 ms).
   */
  spillAfterMs?: number;
}

/** Told once whether its row is durable (true) or will never be stored (false). */
export type Ack = (durable: boolean) => void;

/**
 * Only a refusal of the rows' content (SQLSTATE class 22 data exception, 23 integrity violation)
 * is permanent. Everything else — connection refused or reset, server shutting down or starting,
 * out of resources, serialisation failure — says "try again later".
 */
export function isTransient(err: unknown): boolean {
  // Not a database error at all: a bug in the writer, retrying will not help.
  if (!(err instanceof DbError)) return false;
  if (err.code === undefined) return true;
  return !/^(22|23)[0-9A-Z]{3}$/.test(err.code);
}

export class BatchWriter<T> {
  private buffer: T[] = [];
  /** Acknowledgements, parallel to `buffer` (undefined: nobody waits on that row). */
  private acks: (Ack | undefined)[] = [];
  /** Acknowledgements pending among the rows in `buffer`. */
  private acksInMemory = 0;
  private head = 0;
  /** The live batch in flight: since when, and the buffer index it ends at. */
  private inFlight: { since: number; end: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private backoffMs = 0;
  private failures = 0;
  private nextAttemptAt = 0;
  private closed = false;
  /** After a refused batch, rows up to this index are written one by one to isolate the bad one. */
  private isolateUntil = 0;
  private waiters: (() => void)[] = [];
  private readonly spill: SpillStore | null;
  /** Rows waiting to be appended to the spill (written on the next tick, in one append). */
  private spillPending: T[] = [];
  private spillAcks: (Ack | undefined)[] = [];
  /** The spill file being replayed and how far. */
  private replay: { path: string; rows: T[]; done: number } | null = null;
  private preferReplay = true;

  constructor(private readonly opts: BatchWriterOptions<T>) {
    this.spill = opts.spill ? new SpillStore(opts.name, opts.spill) : null;
    if (this.spill && this.spill.fileCount > 0) {
      opts.log.warn({ writer: opts.name, files: this.spill.fileCount, bytes: this.spill.bytes }, 'spill files found; replaying them');
    }
  }

  /** Rows on disk waiting for replay (bytes), 0 without a spill. */
  get spilledBytes(): number {
    return this.spill?.bytes ?? 0;
  }

  private get spillPendingWork(): boolean {
    return this.spillPending.length > 0 || this.replay !== null || (this.spill?.fileCount ?? 0) > 0;
  }

  /**
   * Back-pressure for producers: null while there is room, otherwise a promise that resolves
   * once the buffer has drained below its low-water mark (or after `maxWaitMs`, so a long
   * outage cannot freeze producers forever: then `push` counts what it cannot keep).
   */
  whenWritable(maxWaitMs = 5000): Promise<void> | null {
    if (this.depth < this.opts.maxBuffered * 0.9 || this.closed) return null;
    // The spill takes what memory cannot: no need to hold producers back while it has room.
    if (this.spill && this.spill.bytes < this.opts.spill!.maxBytes * 0.9) return null;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, maxWaitMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wakeProducers(): void {
    if (this.waiters.length === 0 || this.depth >= this.opts.maxBuffered * 0.7) return;
    for (const w of [...this.waiters]) w();
  }

  get depth(): number {
    return this.buffer.length - this.head;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.opts.flushMs);
    this.timer.unref();
  }

  /**
   * Queue a row; false when the buffer is full and the row was dropped (counted). `ack`, when
   * given, is called once: true when the row is durable (committed, or fsync'ed to the spill),
   * false when it will not be stored (dropped, refused by the database, writer closed).
   */
  push(row: T, ack?: Ack): boolean {
    if (this.closed) {
      this.opts.onDrop?.(1, 'writer closed');
      ack?.(false);
      return false;
    }
    if (this.depth >= this.opts.maxBuffered) {
      if (this.spill) {
        this.spillPending.push(row);
        this.spillAcks.push(ack);
        if (this.spillPending.length >= 1000) this.flushSpill();
        return true;
      }
      this.opts.onDrop?.(1, 'write buffer full');
      ack?.(false);
      return false;
    }
    this.buffer.push(row);
    this.acks.push(ack);
    if (ack) this.acksInMemory++;
    if (this.depth >= this.opts.batchSize) void this.tick();
    return true;
  }

  /** Write what is buffered now instead of at the next flush tick (a caller is waiting on a row). */
  writeSoon(): void {
    void this.tick();
  }

  /** `push(row, ack)` as a promise: resolves true once the row is durable, false if it never will be. */
  pushDurable(row: T): Promise<boolean> {
    return new Promise<boolean>((resolve) => void this.push(row, resolve));
  }

  /** Append rows waiting for the spill and fsync them; what does not fit is dropped, counted and logged. */
  private flushSpill(): void {
    if (!this.spill || this.spillPending.length === 0) return;
    const rows = this.spillPending;
    const acks = this.spillAcks;
    this.spillPending = [];
    this.spillAcks = [];
    let kept = 0;
    try {
      kept = this.spill.append(rows.map((r) => JSON.stringify(r)));
      // One fsync for the whole group: only then are these rows durable.
      if (kept > 0) this.spill.sync();
    } catch (err) {
      this.opts.log.error({ writer: this.opts.name, err: (err as Error).message }, 'spill write failed');
      kept = 0;
    }
    if (kept > 0) this.opts.onSpill?.(kept);
    if (kept < rows.length) {
      this.opts.onDrop?.(rows.length - kept, 'write buffer and spill full');
      this.opts.log.error({ writer: this.opts.name, rows: rows.length - kept, spillBytes: this.spill.bytes }, 'write buffer and spill full; rows dropped');
    }
    for (let i = 0; i < acks.length; i++) acks[i]?.(i < kept);
  }

  /**
   * Rows someone waits on are not left in memory while the database fails or is slow: the rows
   * behind the batch in flight (all of them, when none is) move to the spill, oldest first.
   */
  private divertToSpill(now: number): void {
    if (!this.spill || this.acksInMemory === 0) return;
    const failing = this.failures > 0 && now < this.nextAttemptAt;
    const slow = this.inFlight !== null && now - this.inFlight.since >= (this.opts.spillAfterMs ?? 1000);
    if (!failing && !slow) return;
    const from = Math.max(this.inFlight?.end ?? this.head, this.isolateUntil);
    if (from >= this.buffer.length) return;
    const rows = this.buffer.splice(from);
    const acks = this.acks.splice(from);
    for (const a of acks) if (a) this.acksInMemory--;
    this.spillPending.push(...rows);
    this.spillAcks.push(...acks);
  }

  /** Answer the acknowledgements of buffer rows [from, to). */
  private settle(from: number, to: number, durable: boolean): void {
    for (let i = from; i < to; i++) {
      const a = this.acks[i];
      if (!a) continue;
      this.acks[i] = undefined;
      this.acksInMemory--;
      a(durable);
    }
  }

  private tick(): Promise<void> {
    this.divertToSpill(Date.now());
    this.flushSpill();
    if (this.writing || Date.now() < this.nextAttemptAt) return this.writing ?? Promise.resolve();
    // Replay spilled rows only while the database is taking writes, alternating with live rows
    // so that neither starves the other.
    if (this.spill && (this.failures === 0 || this.depth === 0) && (this.replay || this.spill.fileCount > 0) && (this.preferReplay || this.depth === 0)) {
      this.preferReplay = false;
      this.writing = this.replayOne().finally(() => {
        this.writing = null;
      });
      return this.writing;
    }
    this.preferReplay = true;
    if (this.depth === 0) return Promise.resolve();
    this.writing = this.writeOne().finally(() => {
      this.writing = null;
      this.opts.onDepth?.(this.depth);
    });
    return this.writing;
  }

  private async replayOne(): Promise<void> {
    if (!this.replay) {
      const file = this.spill!.takeOldest();
      if (!file) return;
      const rows: T[] = [];
      let bad = file.torn;
      for (const line of file.lines) {
        try {
          rows.push(JSON.parse(line) as T);
        } catch {
          bad++;
        }
      }
      if (bad > 0) {
        this.opts.onDrop?.(bad, 'unreadable spill line');
        this.opts.log.error({ writer: this.opts.name, file: file.path, lines: bad }, 'unreadable lines in spill file; dropped');
      }
      this.replay = { path: file.path, rows, done: 0 };
    }
    const r = this.replay;
    const batch = r.rows.slice(r.done, r.done + this.opts.batchSize);
    if (batch.length > 0) {
      const started = process.hrtime.bigint();
      this.inFlight = { since: Date.now(), end: this.head };
      try {
        const stored = await this.opts.write(batch);
        this.inFlight = null;
        r.done += batch.length;
        this.failures = 0;
        this.backoffMs = 0;
        this.nextAttemptAt = 0;
        this.opts.onCommit?.(batch, stored, Number(process.hrtime.bigint() - started) / 1e9);
      } catch (err) {
        this.inFlight = null;
        // The same rules as for live rows would need isolation bookkeeping per file; a replayed row
        // was accepted once already, so a transient failure just waits and a refusal drops the batch.
        this.failures++;
        this.opts.onError?.(err as Error);
        if (!isTransient(err)) {
          r.done += batch.length;
          this.opts.onDrop?.(batch.length, `write refused: ${(err as Error).message}`);
          this.opts.log.error({ writer: this.opts.name, rows: batch.length, err: (err as Error).message }, 'spilled rows refused by the database; dropped');
          this.failures = 0;
        } else {
          this.backoffMs = Math.min(5000, this.backoffMs ? this.backoffMs * 2 : 100);
          this.nextAttemptAt = Date.now() + this.backoffMs;
        }
        return;
      }
    }
    if (r.done >= r.rows.length) {
      this.spill!.remove(r.path);
      this.replay = null;
      if (this.spill!.fileCount === 0) this.opts.log.info({ writer: this.opts.name }, 'spill replayed');
    }
  }

  private async writeOne(): Promise<void> {
    const size = this.head < this.isolateUntil ? 1 : this.opts.batchSize;
    const end = Math.min(this.buffer.length, this.head + size);
    const batch = this.buffer.slice(this.head, end);
    const started = process.hrtime.bigint();
    this.inFlight = { since: Date.now(), end };
    try {
      const stored = await this.opts.write(batch);
      this.inFlight = null;
      this.settle(this.head, end, true);
      this.head = end;
      // Compact now and then, not on every batch.
      if (this.head > 50_000 || this.head === this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.acks = this.acks.slice(this.head);
        this.isolateUntil = Math.max(0, this.isolateUntil - this.head);
        this.head = 0;
      }
      if (this.failures > 0) this.opts.log.info({ writer: this.opts.name, after: this.failures }, 'database writes resumed');
      this.failures = 0;
      this.backoffMs = 0;
      this.nextAttemptAt = 0;
      this.opts.onCommit?.(batch, stored, Number(process.hrtime.bigint() - started) / 1e9);
      this.wakeProducers();
    } catch (err) {
      this.inFlight = null;
      this.failures++;
      this.opts.onError?.(err as Error);
      if (!isTransient(err) && this.failures >= 3) {
        this.failures = 0;
        if (batch.length > 1) {
          // Retry row by row so that only the row the database refuses is lost, not its batch.
          this.isolateUntil = end;
          return;
        }
        // A row the database keeps refusing for its content would block everything behind it.
        this.settle(this.head, end, false);
        this.head = end;
        this.opts.onDrop?.(1, `write refused: ${(err as Error).message}`);
        this.opts.log.error({ writer: this.opts.name, err: (err as Error).message }, 'row refused by the database; dropped');
        return;
      }
      this.backoffMs = Math.min(5000, this.backoffMs ? this.backoffMs * 2 : 100);
      this.nextAttemptAt = Date.now() + this.backoffMs;
      if (this.failures === 1 || this.failures % 20 === 0) {
        this.opts.log.warn({ writer: this.opts.name, depth: this.depth, attempt: this.failures, err: (err as Error).message }, 'database write failed; rows kept, retrying');
      }
    }
  }

  /** Write everything buffered, retrying until done or `deadlineMs` passes. */
  async flush(deadlineMs = 30_000): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while ((this.depth > 0 || this.spillPendingWork) && Date.now() < until) {
      if (this.writing) await this.writing;
      else if (Date.now() < this.nextAttemptAt) await new Promise((r) => setTimeout(r, Math.min(100, this.nextAttemptAt - Date.now())));
      else await this.tick();
    }
    if (this.writing) await this.writing;
    return this.depth === 0 && !this.spillPendingWork;
  }

  async close(deadlineMs = 30_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const done = await this.flush(deadlineMs);
    this.closed = true;
    if (!done && this.spill) {
      // Keep what the database did not take for the next start instead of losing it.
      if (this.replay) {
        this.spill.shrink(this.replay.path, this.replay.rows.slice(this.replay.done).map((r) => JSON.stringify(r)));
        this.replay = null;
      }
      this.spillPending.push(...this.buffer.slice(this.head));
      this.spillAcks.push(...this.acks.slice(this.head));
      const rows = this.depth;
      this.buffer = [];
      this.acks = [];
      this.acksInMemory = 0;
      this.head = 0;
      this.flushSpill();
      this.opts.log.warn({ writer: this.opts.name, rows, spillBytes: this.spill.bytes }, 'shutting down with unwritten rows; kept in the spill for the next start');
      return;
    }
    if (!done) {
      this.opts.onDrop?.(this.depth, 'shutdown before the database accepted them');
      this.opts.log.error({ writer: this.opts.name, rows: this.depth }, 'shutting down with unwritten rows');
      this.settle(this.head, this.buffer.length, false);
    }
  }
}
