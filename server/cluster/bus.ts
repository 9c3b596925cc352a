// What the nodes of a cluster tell each other besides the ingest log (ADR 0026), over plain NATS
// subjects (at-most-once, in order per sender):
// - `wp.live`: every change to the live state and every push to the dashboards that one node
//   makes (as the owner of a patient's partition, or as the node a device is connected to) is
//   replayed on the others, so each node answers a dashboard's snapshot and REST reads for every
//   patient and pushes to its own sockets. A node that joins says `wp.hello`, and the owners send
//   the live state of their patients again.
// - `wp.changed`: a patient, a device or a session changed through one node's REST layer: the
//   others update their caches (a revoked session is refused everywhere, not only where it ended).
// A node missing a message while NATS reconnects catches up with the next change of the same
// patient (each carries the whole value), and freshness marks what is old as old.
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';

type Call = [target: string, method: string, args: unknown[]];
interface LiveBatch {
  from: string;
  calls: Call[];
}
export interface Change {
  from: string;
  kind: string;
  data: unknown;
}

const live = JSONCodec<LiveBatch>();
const changes = JSONCodec<Change>();
/** Calls per NATS message (a hello's replay of every patient is cut into pieces under max_payload). */
const MAX_CALLS = 500;

export class ClusterBus {
  private readonly targets = new Map<string, object>();
  private readonly changeHandlers = new Map<string, (data: unknown) => void>();
  private readonly helloHandlers: (() => void)[] = [];
  private readonly subs: Subscription[] = [];
  private queued: Call[] = [];
  private scheduled = false;
  /** Set while applying a peer's change, so that the listeners it fires do not announce it again. */
  private quiet = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly me: string,
    private readonly log: Logger,
  ) {
    this.subs.push(
      this.listen('wp.live', (data) => {
        const batch = live.decode(data);
        if (batch.from === me) return;
        for (const [name, method, args] of batch.calls) {
          const target = this.targets.get(name) as Record<string, (...a: unknown[]) => unknown> | undefined;
          try {
            target?.[method]?.(...args);
          } catch (err) {
            this.log.warn({ err, target: name, method }, 'cluster: a peer\'s live update could not be applied');
          }
        }
      }),
      this.listen('wp.changed', (data) => {
        const c = changes.decode(data);
        if (c.from === me) return;
        const handler = this.changeHandlers.get(c.kind);
        if (!handler) return;
        this.applying(() => handler(c.data));
      }),
      this.listen('wp.hello', (data) => {
        if (changes.decode(data).from === me) return;
        for (const h of this.helloHandlers) h();
      }),
    );
  }

  private listen(subject: string, handle: (data: Uint8Array) => void): Subscription {
    return this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return this.log.warn({ err: err.message, subject }, 'cluster: subscription failed');
        try {
          handle(msg.data);
        } catch (e) {
          this.log.warn({ err: e, subject }, 'cluster: unreadable message');
        }
      },
    });
  }

  /**
   * `target` as seen by this node's sinks: each call of one of `methods` runs on it and is then
   * replayed on the same-named target of every other node (registered with `serve`).
   */
  replicate<T extends object>(name: string, target: T, methods: readonly (keyof T & string)[]): T {
    this.serve(name, target);
    const replicated = new Set<string>(methods);
    return new Proxy(target, {
      get: (t, prop) => {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== 'function') return value;
        if (typeof prop === 'string' && replicated.has(prop)) {
          return (...args: unknown[]) => {
            const result = (value as (...a: unknown[]) => unknown).apply(t, args);
            this.send(name, prop, args);
            return result;
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(t);
      },
    });
  }

  /** Apply the other nodes' calls of `name` to `target` (without replaying them further). */
  serve(name: string, target: object): void {
    this.targets.set(name, target);
  }

  /** Replay a call on the other nodes (sent in order, batched per event-loop turn). */
  send(name: string, method: string, args: unknown[]): void {
    this.queued.push([name, method, args]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const calls = this.queued;
    this.queued = [];
    for (let i = 0; i < calls.length; i += MAX_CALLS) {
      try {
        this.nc.publish('wp.live', live.encode({ from: this.me, calls: calls.slice(i, i + MAX_CALLS) }));
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cluster: live update not sent to the other nodes');
      }
    }
  }

  /** Run `fn` (applying a peer's change) without announcing what it changes back to the others. */
  applying(fn: () => void): void {
    this.quiet = true;
    try {
      fn();
    } finally {
      this.quiet = false;
    }
  }

  /** Tell the other nodes about a change (not while applying one of theirs). */
  announce(kind: string, data: unknown): void {
    if (this.quiet) return;
    try {
      this.nc.publish('wp.changed', changes.encode({ from: this.me, kind, data }));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, kind }, 'cluster: change not announced to the other nodes');
    }
  }

  onChange(kind: string, handler: (data: unknown) => void): void {
    this.changeHandlers.set(kind, handler);
  }

  /** Ask the other nodes for their live state (after joining); `onHello` is how a node answers. */
  hello(): void {
    this.nc.publish('wp.hello', changes.encode({ from: this.me, kind: 'hello', data: null }));
  }

  onHello(handler: () => void): void {
    this.helloHandlers.push(handler);
  }

  close(): void {
    this.flush();
    for (const s of this.subs) s.unsubscribe();
  }
}
