// A batch writer whose caller can wait for one row to be committed: what a person did (an alarm
// acknowledged, silenced or resolved, an audit entry) is durable before the API answers 200
// (docs/decisions/0024). Rows written without waiting keep the plain writer's batching and
// throughput; a waited-for row asks for a write now instead of at the next flush tick.
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { DbError } from './driver.ts';

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class DurableBatchWriter<T extends object> extends BatchWriter<T> {
  /** Rows someone waits on, by identity: a row object is queued once. */
  private readonly waiting = new Map<T, Waiter>();

  constructor(
    opts: BatchWriterOptions<T>,
    /** How long `writeDurable` waits for the commit (the row stays queued after that). */
    private readonly timeoutMs = 10_000,
  ) {
    super({
      ...opts,
      onCommit: (rows, stored, seconds) => {
        opts.onCommit?.(rows, stored, seconds);
        this.committed(rows);
      },
    });
  }

  /**
   * Queue `row` and resolve once the batch holding it has committed. Rejects (a transient
   * DbError) when the buffer is full or closed, or when the commit has not happened within the
   * timeout — then the row is still queued and written when the database takes writes again: the
   * caller knows only that it is not confirmed yet.
   */
  writeDurable(row: T): Promise<void> {
    if (this.waiting.has(row)) return Promise.reject(new Error('row already queued for a durable write'));
    if (!this.push(row)) return Promise.reject(new DbError('write buffer full or closed; not stored'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(row);
        reject(new DbError(`not committed within ${Math.round(this.timeoutMs / 1000)} s (the database is slow or away); still queued`));
      }, this.timeoutMs);
      this.waiting.set(row, { resolve, reject, timer });
      this.writeSoon();
    });
  }

  private committed(rows: T[]): void {
    if (this.waiting.size === 0) return;
    for (const row of rows) {
      const w = this.waiting.get(row);
      if (!w) continue;
      clearTimeout(w.timer);
      this.waiting.delete(row);
      w.resolve();
    }
    // Another waited-for row may sit behind this batch: no need to wait for the flush tick.
    if (this.waiting.size > 0) setImmediate(() => this.writeSoon());
  }

  override async close(deadlineMs?: number): Promise<void> {
    await super.close(deadlineMs);
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new DbError('shut down before the row was committed'));
    }
    this.waiting.clear();
  }
}
