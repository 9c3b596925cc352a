// A partition's durable watermark (ADR 0026): pure, no I/O; node.ts saves it in `wp_offsets` and
// a node taking the partition over replays the ingest log from there.

/**
 * The highest stream sequence up to which every message's rows are durable. Messages are taken in
 * order; their rows become durable out of order (batches). A message whose rows were not all
 * stored (the write buffer and the spill were full, the database refused a row for good: `false`
 * or a rejection) holds the watermark before it for as long as this node owns the partition, so
 * the next owner processes it again rather than skips it; this node logs the drop (sinks.ts).
 *
 * Back-pressure (`pending`, `drained`) counts only the messages whose outcome is not known yet:
 * one message that was not stored must not stop the reading of the partition, which would leave
 * its patients unmonitored while the node keeps the lease.
 */
export class WatermarkTracker {
  /** Messages past the watermark (in order), up to the first one not stored. */
  private readonly order: number[] = [];
  /** Outcomes of messages in `order` known stored (out of order). */
  private readonly stored = new Set<number>();
  /** The lowest message not stored; nothing at or past it can move the watermark any more. */
  private lowestLost: number | null = null;
  private unsettled = 0;
  private waiters: { below: number; resolve: () => void }[] = [];

  constructor(public value: number) {}

  /** Messages taken whose rows' outcome is not known yet. */
  get pending(): number {
    return this.unsettled;
  }

  /** Every message taken is stored: the watermark is at the last one. */
  get complete(): boolean {
    return this.unsettled === 0 && this.lowestLost === null;
  }

  /** The lowest message taken whose rows were not stored (null: none). */
  get lost(): number | null {
    return this.lowestLost;
  }

  /** Message `seq` (taken in order) writes the rows whose durability `durable` promises. */
  add(seq: number, durable: Promise<boolean>[]): void {
    this.unsettled++;
    if (this.lowestLost === null) this.order.push(seq);
    if (durable.length === 0) return this.settle(seq, true);
    Promise.all(durable).then(
      (all) => this.settle(seq, all.every(Boolean)),
      () => this.settle(seq, false),
    );
  }

  /** Resolves once at most `below` messages wait for the outcome of their rows. */
  drained(below: number): Promise<void> {
    if (this.unsettled <= below) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ below, resolve }));
  }

  private settle(seq: number, ok: boolean): void {
    this.unsettled--;
    if (!ok && (this.lowestLost === null || seq < this.lowestLost)) {
      this.lowestLost = seq;
      // What follows it can never move the watermark: forget it (memory stays bounded).
      while (this.order.length > 0 && this.order[this.order.length - 1]! >= seq) this.stored.delete(this.order.pop()!);
    } else if (ok && (this.lowestLost === null || seq < this.lowestLost)) {
      this.stored.add(seq);
      while (this.order.length > 0 && this.stored.has(this.order[0]!)) {
        const s = this.order.shift()!;
        this.stored.delete(s);
        this.value = s;
      }
    }
    if (this.waiters.length === 0) return;
    this.waiters = this.waiters.filter((w) => {
      if (this.unsettled > w.below) return true;
      w.resolve();
      return false;
    });
  }
}
