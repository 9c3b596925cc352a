// A bounded, batched, retrying writer. Rows wait in memory; one batch at a time is written;
// while the database is unreachable rows keep waiting (up to `maxBuffered`) and are written
// when it returns. What cannot be kept is counted and logged, never silently lost.
import type { Logger } from 'pino';
import { DbError } from './driver.ts';

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
}

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
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private backoffMs = 0;
  private failures = 0;
  private nextAttemptAt = 0;
  private closed = false;
  /** After a refused batch, rows up to this index are written one by one to isolate the bad one. */
  private isolateUntil = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: BatchWriterOptions<T>) {}

  /**
   * Back-pressure for producers: null while there is room, otherwise a promise that resolves
   * once the buffer has drained below its low-water mark (or after `maxWaitMs`, so a long
   * outage cannot freeze producers forever: then `push` counts what it cannot keep).
   */
  whenWritable(maxWaitMs = 5000): Promise<void> | null {
    if (this.depth < this.opts.maxBuffered * 0.9 || this.closed) return null;
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

  /** Queue a row; false when the buffer is full and the row was dropped (counted). */
  push(row: T): boolean {
    if (this.closed) {
      this.opts.onDrop?.(1, 'writer closed');
      return false;
    }
    if (this.depth >= this.opts.maxBuffered) {
      this.opts.onDrop?.(1, 'write buffer full');
      return false;
    }
    this.buffer.push(row);
    if (this.depth >= this.opts.batchSize) void this.tick();
    return true;
  }

  private tick(): Promise<void> {
    if (this.writing || this.depth === 0 || Date.now() < this.nextAttemptAt) return this.writing ?? Promise.resolve();
    this.writing = this.writeOne().finally(() => {
      this.writing = null;
      this.opts.onDepth?.(this.depth);
    });
    return this.writing;
  }

  private async writeOne(): Promise<void> {
    const size = this.head < this.isolateUntil ? 1 : this.opts.batchSize;
    const end = Math.min(this.buffer.length, this.head + size);
    const batch = this.buffer.slice(this.head, end);
    const started = process.hrtime.bigint();
    try {
      const stored = await this.opts.write(batch);
      this.head = end;
      // Compact now and then, not on every batch.
      if (this.head > 50_000 || this.head === this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
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
    while (this.depth > 0 && Date.now() < until) {
      if (this.writing) await this.writing;
      else if (Date.now() < this.nextAttemptAt) await new Promise((r) => setTimeout(r, Math.min(100, this.nextAttemptAt - Date.now())));
      else await this.tick();
    }
    if (this.writing) await this.writing;
    return this.depth === 0;
  }

  async close(deadlineMs = 30_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const done = await this.flush(deadlineMs);
    this.closed = true;
    if (!done) {
      this.opts.onDrop?.(this.depth, 'shutdown before the database accepted them');
      this.opts.log.error({ writer: this.opts.name, rows: this.depth }, 'shutting down with unwritten rows');
    }
  }
}
