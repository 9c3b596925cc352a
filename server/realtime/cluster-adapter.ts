// Socket.IO rooms across the nodes of a cluster (ADR 0027): the official Redis Streams adapter on
// CLUSTER_REDIS_URL. It carries what starts on one node and concerns sockets on any node — a queue
// call, an account's connections closed (io.ts). The dashboards' pushes do not go through it: they
// follow the live state over NATS (cluster/bus.ts), and each node emits them to its own sockets.
//
// Redis down at start: the start fails within START_DEADLINE_MS with an error naming the setting.
// Redis lost later: logged once; this node's own sockets are still served (the publishing client
// fails fast instead of queueing, and the adapter acts locally after a failed publish), room
// operations from and to the other nodes are lost until the client has reconnected, by itself.
// The stream readers do queue: once back, they read the stream on from where they stopped, so a
// node whose own connection dropped for a moment still gets what the others published meanwhile.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { ServerOptions } from 'socket.io';

export interface RoomsAdapter {
  /** For `new Server(http, { adapter })` (RealtimeDeps.adapter). */
  adapter: NonNullable<ServerOptions['adapter']>;
  /** The publishing connection to Redis is up (GET /api/cluster). */
  connected(): boolean;
  /** Close the adapter (after Socket.IO) and its Redis connections. */
  close(): Promise<void>;
}

type Client = ReturnType<typeof createClient>;
type NamespaceAdapter = ReturnType<ReturnType<typeof createAdapter>>;

/** How long a start waits for Redis before it fails. */
const START_DEADLINE_MS = 10_000;

/** `name`: this node's, shown by Redis's CLIENT LIST for each of its connections (no spaces). */
export async function createRoomsAdapter(redisUrl: string, log: Logger, opts: { name?: string; startDeadlineMs?: number } = {}): Promise<RoomsAdapter> {
  // Logged and shown without the password a URL may carry.
  const where = (() => {
    const u = new URL(redisUrl);
    return `${u.protocol}//${u.host}`;
  })();
  const deadline = Date.now() + (opts.startDeadlineMs ?? START_DEADLINE_MS);
  let started = false;
  let down = false;
  const client: Client = createClient({
    url: redisUrl,
    ...(opts.name ? { name: `wardpulse:${opts.name}` } : {}),
    // An emit through the adapter publishes first and reaches this node's sockets after; with an
    // offline queue, a Redis outage would hold this node's own queue calls until it is back.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      // Before the first connection: a few tries until the deadline, then the start fails.
      // After: reconnect for ever, backing off to 2 s.
      reconnectStrategy: (retries, cause) => (started ? Math.min(100 * 2 ** retries, 2000) : Date.now() < deadline ? 250 : cause),
    },
  });
  client.on('error', (err: Error) => {
    if (!started || down) return;
    down = true;
    log.warn({ event: 'redis_down', redis: where, err: err.message }, 'Socket.IO rooms: Redis unreachable; queue calls and closed connections reach this node\'s sockets only until it is back');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ event: 'redis_up', redis: where }, 'Socket.IO rooms: Redis reachable again');
  });
  try {
    await client.connect();
  } catch (err) {
    // (A refused `localhost` is an AggregateError with no message, only a code.)
    const e = ((err as { socketError?: unknown }).socketError ?? err) as NodeJS.ErrnoException;
    throw new Error(`cannot connect to Redis at ${where} (CLUSTER_REDIS_URL): ${e.message || e.code || String(e)}`, { cause: err });
  }
  started = true;

  // The adapter duplicates the client for its stream reader and its PUB/SUB subscriber. Those keep
  // an offline queue (without one, a reader would spin on failing reads while Redis is down), and
  // are kept here so that close() can end them.
  let closing = false;
  const duplicates = new Set<Client>();
  const own = (d: Client): Client => {
    duplicates.add(d);
    const connect = d.connect.bind(d);
    const disconnect = d.disconnect.bind(d);
    // Closed while still connecting (a shutdown just after the start): the adapter's pending
    // connect must not reject unhandled.
    d.connect = () => connect().catch((err: unknown) => (closing ? new Promise<never>(() => undefined) : Promise.reject(err)));
    // Both the adapter (on abort) and close() end them; the second must be a no-op, not a rejection.
    d.disconnect = () => (d.isOpen ? disconnect() : Promise.resolve());
    return d;
  };
  const forAdapter = new Proxy(client, {
    get(target, prop) {
      if (prop === 'duplicate') return () => own(target.duplicate({ disableOfflineQueue: false }));
      const value = Reflect.get(target, prop, target) as unknown;
      // node-redis's methods read private fields of `this`: call them on the client, not the proxy.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  // Made on the first namespace (so nothing reads the stream before Socket.IO exists).
  let factory: ((nsp: unknown) => NamespaceAdapter) | null = null;
  const adapters = new Set<NamespaceAdapter>();
  log.info({ redis: where }, 'Socket.IO rooms: Redis Streams adapter connected');
  return {
    // A function, not an arrow: Socket.IO calls it with `new`.
    adapter: function adapter(nsp: unknown) {
      factory ??= createAdapter(forAdapter);
      const a = factory(nsp);
      adapters.add(a);
      return a;
    },
    connected: () => client.isReady,
    async close() {
      closing = true;
      // Tells the other nodes this one is gone, and stops the stream reader.
      for (const a of adapters) a.close();
      adapters.clear();
      await Promise.all([...duplicates].map((d) => d.disconnect().catch(() => undefined)));
      if (client.isReady) await client.quit().catch(() => undefined);
      else if (client.isOpen) await client.disconnect().catch(() => undefined);
    },
  };
}
