// Partition leases in NATS JetStream's key-value store (ADR 0026). A node owns partition p while
// its key `p<p>` in the bucket `wp_leases` holds the node's id; the bucket's TTL is the lease
// time, so a key nobody renews disappears by itself. Taking a free partition is a create (fails
// if the key exists), renewing is an update at the revision last seen (fails if anyone else wrote
// it since): compare-and-set in the engine, no home-made consensus. A node fences itself: it stops
// processing a partition when its lease may have run out by its own clock (the renewal's send time
// + the lease − a margin), before any other node can take it.
import type { KV } from 'nats';
import type { Logger } from 'pino';
import { plan, preferredNode } from './partitions.ts';

export interface LeaseHandlers {
  /** This node now holds `p`: start processing it. Renewals go on while this runs. */
  acquired(p: number): Promise<void>;
  /** Hand `p` over cleanly (another node is preferred): stop, save, then the lease is deleted. */
  release(p: number): Promise<void>;
  /** The lease on `p` is lost or may have run out: stop processing at once, write nothing more. */
  lost(p: number, why: string): void;
}

export interface LeaseOptions {
  me: string;
  partitions: number;
  leaseMs: number;
}

/** Stop this long before the lease could run out on the server (timers slip; the loop can be late). */
const FENCE_MARGIN_MS = 750;

export class LeaseManager {
  private readonly held = new Map<number, { revision: number; validUntil: number; since: number; pinnedUntil: number }>();
  private readonly freeSince = new Map<number, number>();
  private readonly releasing = new Set<number>();
  private loop: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private cycle: Promise<void> = Promise.resolve();
  private closed = false;
  private liveNodes: string[] = [];

  constructor(
    private readonly leases: KV,
    private readonly nodes: KV,
    private readonly opts: LeaseOptions,
    private readonly on: LeaseHandlers,
    private readonly log: Logger,
  ) {}

  start(): void {
    const every = Math.max(200, Math.floor(this.opts.leaseMs / 3));
    const run = () => {
      this.cycle = this.cycle.then(() => this.step()).catch((err: Error) => this.log.warn({ err: err.message }, 'cluster: lease cycle failed'));
    };
    run();
    this.loop = setInterval(run, every);
    this.watchdog = setInterval(() => this.fence(), 100);
  }

  /** The partitions this node holds (processing them or starting to). */
  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** The nodes that announced themselves at the last cycle. */
  peers(): string[] {
    return [...this.liveNodes];
  }

  /** Whether this node may still process `p` (its lease cannot have run out yet). */
  holds(p: number): boolean {
    const h = this.held.get(p);
    return h !== undefined && Date.now() < h.validUntil;
  }

  /** Release every partition cleanly (a shutdown), then stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.loop) clearInterval(this.loop);
    await this.cycle;
    await Promise.all(this.owned().map((p) => this.handOver(p)));
    if (this.watchdog) clearInterval(this.watchdog);
    await this.nodes.delete(this.opts.me).catch(() => undefined);
  }

  private fence(): void {
    const now = Date.now();
    for (const [p, h] of this.held) {
      if (now < h.validUntil || this.releasing.has(p)) continue;
      this.held.delete(p);
      this.log.error({ event: 'lease_expired', partition: p }, 'cluster: lease not renewed in time; processing of the partition stopped');
      this.on.lost(p, 'lease not renewed in time');
    }
  }

  private async step(): Promise<void> {
    if (this.closed) return;
    const { me, partitions, leaseMs } = this.opts;
    await this.nodes.put(me, JSON.stringify({ at: Date.now() }));
    // Renew first: a slow cycle must not cost a lease.
    await Promise.all(
      [...this.held].map(async ([p, h]) => {
        const sentAt = Date.now();
        try {
          h.revision = await this.leases.update(key(p), me, h.revision);
          h.validUntil = sentAt + leaseMs - FENCE_MARGIN_MS;
        } catch (err) {
          if (!this.held.has(p) || this.releasing.has(p)) return;
          // Someone else wrote the key (it expired and was taken), or NATS refused: stop now.
          this.held.delete(p);
          this.log.error({ event: 'lease_lost', partition: p, err: (err as Error).message }, 'cluster: lease lost; processing of the partition stopped');
          this.on.lost(p, (err as Error).message);
        }
      }),
    );
    const live: string[] = [];
    for await (const k of await this.nodes.keys()) live.push(k);
    this.liveNodes = live.sort();
    const owners = new Map<number, string | null>();
    const now = Date.now();
    for (let p = 0; p < partitions; p++) {
      const e = await this.leases.get(key(p));
      const owner = e && e.operation === 'PUT' ? e.string() : null;
      owners.set(p, owner);
      if (owner === null) {
        if (!this.freeSince.has(p)) this.freeSince.set(p, now);
      } else this.freeSince.delete(p);
    }
    const todo = plan(me, this.liveNodes, owners, this.freeSince, partitions, now, 2 * leaseMs);
    for (const p of todo.release) {
      const h = this.held.get(p);
      if (!h || this.releasing.has(p) || now < h.pinnedUntil) continue;
      void this.handOver(p);
    }
    for (const p of todo.take) {
      if (this.held.has(p)) continue;
      const sentAt = Date.now();
      let revision: number;
      try {
        revision = await this.leases.create(key(p), me);
      } catch {
        continue; // another node won it
      }
      // Taken while its preferred node was not taking it: keep it a while, or two nodes would
      // pass it back and forth every grace period.
      const byGrace = preferredNode(p, this.liveNodes.includes(me) ? this.liveNodes : [...this.liveNodes, me]) !== me;
      const pinnedUntil = byGrace ? now + 20 * leaseMs : 0;
      this.held.set(p, { revision, validUntil: sentAt + leaseMs - FENCE_MARGIN_MS, since: now, pinnedUntil });
      this.freeSince.delete(p);
      this.log.info({ event: 'lease_acquired', partition: p }, 'cluster: partition taken');
      this.on.acquired(p).catch((err: Error) => {
        // Could not start it (the database is away?): give it back for another node to try.
        this.log.error({ err, partition: p }, 'cluster: partition could not be started; lease given back');
        void this.handOver(p);
      });
    }
  }

  private async handOver(p: number): Promise<void> {
    const h = this.held.get(p);
    if (!h || this.releasing.has(p)) return;
    this.releasing.add(p);
    try {
      await this.on.release(p);
      await this.leases.delete(key(p), { previousSeq: h.revision }).catch(() => undefined);
      this.log.info({ event: 'lease_released', partition: p }, 'cluster: partition handed over');
    } finally {
      this.held.delete(p);
      this.releasing.delete(p);
    }
  }
}

const key = (p: number) => `p${p}`;
