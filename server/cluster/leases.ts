// Partition leases in NATS JetStream's key-value store (ADR 0026). A node owns partition p while
// its key `p<p>` in the bucket `wp_leases` holds the node's id; the bucket's TTL is the lease
// time, so a key nobody renews disappears by itself. Taking a free partition is a create (fails
// if the key exists), renewing is an update at the revision last seen (fails if anyone else wrote
// it since): compare-and-set in the engine, no home-made consensus. A node fences itself: it stops
// processing a partition when its lease may have run out by its own clock (the renewal's send time
// + the lease − a margin), before any other node can take it. Renewals run on their own timer,
// never queued behind the slower planning step (reading every key), so a slow JetStream answer
// costs a plan, not a lease. Which nodes are alive is told over core NATS (Presence), not a
// key-value listing: listing keys needs a JetStream consumer, and those stalled for seconds on
// nats-server 2.9 after one of its servers died (test/cluster/failover.test.ts).
import { StringCodec, type KV, type NatsConnection, type Subscription } from 'nats';
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

const sc = StringCodec();

/**
 * The nodes alive: each announces itself on `wp.nodes.alive` every renewal period, and says
 * goodbye on `wp.nodes.gone` at a clean stop; a node not heard from for a lease time is gone.
 * `live()` is null until this node has listened for a whole lease time (it would not know its peers).
 */
export class Presence {
  private readonly seen = new Map<string, number>();
  private readonly subs: Subscription[];
  private readonly since = Date.now();
  constructor(
    private readonly nc: NatsConnection,
    private readonly me: string,
    private readonly ttlMs: number,
  ) {
    this.subs = [
      nc.subscribe('wp.nodes.alive', { callback: (err, m) => void (err || this.seen.set(sc.decode(m.data), Date.now())) }),
      nc.subscribe('wp.nodes.gone', { callback: (err, m) => void (err || this.seen.delete(sc.decode(m.data))) }),
    ];
  }

  announce(): void {
    this.seen.set(this.me, Date.now());
    this.nc.publish('wp.nodes.alive', sc.encode(this.me));
  }

  live(now = Date.now()): string[] | null {
    if (now - this.since < this.ttlMs) return null;
    return [...this.seen].filter(([, at]) => now - at < this.ttlMs).map(([id]) => id).sort();
  }

  leave(): void {
    for (const s of this.subs) s.unsubscribe();
    this.nc.publish('wp.nodes.gone', sc.encode(this.me));
  }
}

export class LeaseManager {
  private readonly held = new Map<number, { revision: number; validUntil: number; since: number; pinnedUntil: number }>();
  private readonly freeSince = new Map<number, number>();
  private readonly releasing = new Set<number>();
  private loop: NodeJS.Timeout | null = null;
  private renewLoop: NodeJS.Timeout | null = null;
  private renewing = false;
  private watchdog: NodeJS.Timeout | null = null;
  private cycle: Promise<void> = Promise.resolve();
  private planning = false;
  private closed = false;
  private liveNodes: string[] = [];

  constructor(
    private readonly leases: KV,
    private readonly presence: Presence,
    private readonly opts: LeaseOptions,
    private readonly on: LeaseHandlers,
    private readonly log: Logger,
  ) {}

  start(): void {
    const every = Math.max(200, Math.floor(this.opts.leaseMs / 3));
    const run = () => {
      this.planning = true;
      this.cycle = this.cycle.then(() => this.step()).finally(() => (this.planning = false)).catch((err: Error) => this.log.warn({ err: err.message }, 'cluster: lease cycle failed'));
    };
    const renew = () => {
      if (this.renewing || this.closed) return;
      this.renewing = true;
      this.presence.announce();
      this.renew().finally(() => (this.renewing = false));
    };
    renew();
    run();
    this.renewLoop = setInterval(renew, every);
    this.loop = setInterval(() => {
      // One planning step at a time: a slow one is skipped, not queued.
      if (!this.planning) run();
    }, every);
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
    if (this.renewLoop) clearInterval(this.renewLoop);
    if (this.watchdog) clearInterval(this.watchdog);
    this.presence.leave();
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

  /** Renew every held lease at its revision, in parallel; one that fails is given up at once. */
  private async renew(): Promise<void> {
    const { me, leaseMs } = this.opts;
    await Promise.all(
      // Also while a partition is being handed over: its lease must outlast the hand-over.
      [...this.held].map(async ([p, h]) => {
        const sentAt = Date.now();
        try {
          const revision = await this.leases.update(key(p), me, h.revision);
          if (this.held.get(p) !== h) return;
          h.revision = revision;
          h.validUntil = sentAt + leaseMs - FENCE_MARGIN_MS;
        } catch (err) {
          if (this.held.get(p) !== h || this.releasing.has(p)) return;
          // Someone else wrote the key (it expired and was taken), or NATS refused: stop now.
          this.held.delete(p);
          this.log.error({ event: 'lease_lost', partition: p, err: (err as Error).message }, 'cluster: lease lost; processing of the partition stopped');
          this.on.lost(p, (err as Error).message);
        }
      }),
    );
  }

  private async step(): Promise<void> {
    if (this.closed) return;
    const { me, partitions, leaseMs } = this.opts;
    const live = this.presence.live();
    if (!live) return; // still learning who is alive
    this.liveNodes = live;
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
