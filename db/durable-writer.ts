// A batch writer whose caller can wait for one row to be stored: what a person did (an alarm
// acknowledged, silenced or resolved, an audit entry) is durable before the API answers 200
// (docs/decisions/0024). Built on the writer's own acknowledgements (`push(row, ack)`, the same
// ones a QoS 1 PUBACK waits for, ADR 0023): a row is durable once its batch committed, or once it
// was appended to the spill and fsynced. Rows written without waiting keep the plain batching; a
// waited-for row asks for a write now instead of at the next flush tick.
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { DbError } from './driver.ts';

export class DurableBatchWriter<T extends object> extends BatchWriter<T> {
  constructor(
    opts: BatchWriterOptions<T>,
    /** How long `writeDurable` waits (the row stays queued after that). */
    private readonly timeoutMs = 10_000,
  ) {
    super(opts);
  }

  /**
   * Queue `row` and resolve once it is durable. Rejects (a transient DbError) when the buffer is
   * full or closed, when the row can never be stored, or when it is not stored within the timeout
   * — then it is still queued and written when the database takes writes again: the caller knows
   * only that it is not confirmed yet.
   */
  writeDurable(row: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new DbError(`not committed within ${Math.round(this.timeoutMs / 1000)} s (the database is slow or away); still queued`)),
        this.timeoutMs,
      );
      const queued = this.push(row, (stored) => settle(stored ? null : new DbError('not stored: the write buffer and the spill are full, or the database refused the row')));
      if (!queued) settle(new DbError('write buffer full or closed; not stored'));
      else this.writeSoon();
    });
  }
}
