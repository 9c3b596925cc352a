// Socket.IO client, one per page (context.ts): authenticates with the session token, counts who
// holds each room, tells its followers when it has (re)connected so they subscribe again (which
// gives a fresh snapshot; LiveSubscriptionController), and reports its connection state so the
// dashboard can say when what it shows may be out of date. Errors are told apart by their stable
// code (server/errors.ts), never by their message.
import { io, type Socket } from 'socket.io-client';
import type {
  AlarmAction,
  AlertEvent,
  ClientToServerEvents,
  DeviceStatusEvent,
  EscalationEvent,
  ScoreEvent,
  ServerToClientEvents,
  SubscribeRequest,
  SubscribeResult,
  VitalsEvent,
} from '../../server/domain/index.ts';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'unauthorized';

export interface LiveHandlers {
  snapshot(result: SubscribeResult): void;
  vitals(batch: VitalsEvent[]): void;
  score(ev: ScoreEvent): void;
  alert(ev: AlertEvent): void;
  device(ev: DeviceStatusEvent): void;
  /** An unacknowledged alarm re-notified one level up (its `alert` update comes separately too). */
  escalation(ev: EscalationEvent): void;
  state(state: ConnectionState): void;
}

/** The server answered with an error: its stable code (server/errors.ts) and its message. */
export class LiveError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The server answered a subscription with an error (not a timeout or a lost connection), e.g. a
 * kiosk whose wards an admin changed: the view must say so rather than show stale beds.
 */
export class SubscriptionRefused extends LiveError {}

/** Codes of a handshake the server refused for who the user is: the session is over. */
const REFUSED_HANDSHAKE = new Set(['ERR_UNAUTHENTICATED', 'ERR_FORBIDDEN']);

/** The code the server attached to a refused handshake (`connect_error`'s `data`), if any. */
export function handshakeCode(err: Error): string | undefined {
  const data = (err as Error & { data?: { code?: unknown } }).data;
  return typeof data?.code === 'string' ? data.code : undefined;
}

/** How long to wait for the server to answer an alarm command. */
const ACT_TIMEOUT_MS = 10_000;

export class LiveClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  /** How many followers hold each room (by request): the room is left when the last one lets go. */
  private readonly holders = new Map<string, number>();
  /** Subscriptions awaiting the server's answer: the connection is live once they are answered. */
  private readonly inflight = new Set<Promise<SubscribeResult>>();
  private readonly connectListeners = new Set<(since: number | null) => void>();
  private lostAt: number | null = null;

  constructor(token: string, private readonly on: LiveHandlers) {
    this.socket = io({ auth: { token }, transports: ['websocket'], reconnectionDelayMax: 5000 });
    on.state('connecting');
    this.socket.on('connect', () => void this.onConnect());
    this.socket.on('disconnect', (reason) => {
      this.lostAt ??= Date.now();
      on.state('reconnecting');
      // A server-side disconnect is not retried by socket.io-client; a wall display must be.
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), 2000);
    });
    this.socket.on('connect_error', (err) => {
      this.lostAt ??= Date.now();
      const code = handshakeCode(err);
      on.state(code !== undefined && REFUSED_HANDSHAKE.has(code) ? 'unauthorized' : 'reconnecting');
    });
    this.socket.on('vitals', (b) => on.vitals(b));
    this.socket.on('score', (e) => on.score(e));
    this.socket.on('alert', (e) => on.alert(e));
    this.socket.on('device', (e) => on.device(e));
    this.socket.on('escalation', (e) => on.escalation(e));
  }

  /**
   * Called on every connect and reconnect, with when the connection was lost (epoch ms; null on
   * the first connect): subscribe again there. Subscriptions made synchronously in the call are
   * answered before the connection reports 'live'.
   */
  onConnected(fn: (since: number | null) => void): () => void {
    this.connectListeners.add(fn);
    return () => this.connectListeners.delete(fn);
  }

  /** Listen to one server event (e.g. `queue:called`); returns the function that stops. */
  listen<E extends keyof ServerToClientEvents>(event: E, fn: ServerToClientEvents[E]): () => void {
    const socket = this.socket as unknown as { on(e: string, f: unknown): void; off(e: string, f: unknown): void };
    socket.on(event, fn);
    return () => socket.off(event, fn);
  }

  /**
   * Acknowledge, silence or resolve an alarm; resolves with the alarm as the server now has it
   * (also applied at once, before the room's `alert` push arrives). Throws a LiveError with the
   * server's code and message when refused.
   */
  async act(action: AlarmAction, id: string, comment?: string): Promise<AlertEvent> {
    // socket.io buffers emits while disconnected and sends them on reconnect: a silence that
    // arrives minutes later is worse than a visible failure now.
    if (!this.socket.connected) throw new Error('Not connected to the server: the alarm was not changed. Try again when the connection is back.');
    const cmd = comment === undefined ? { id } : { id, comment };
    let res;
    try {
      res = await this.socket.timeout(ACT_TIMEOUT_MS).emitWithAck(`alarm:${action}`, cmd);
    } catch {
      throw new Error('No answer from the server: check the alarm before trying again.');
    }
    if (!res.ok) throw new LiveError(res.error.code, res.error.message);
    this.on.alert(res.data);
    return res.data;
  }

  private async onConnect(): Promise<void> {
    const since = this.lostAt;
    for (const fn of [...this.connectListeners]) {
      try {
        fn(since);
      } catch (err) {
        console.error('re-subscription failed', err);
      }
    }
    const answers = await Promise.allSettled([...this.inflight]);
    // A subscription that timed out leaves what is shown unrefreshed: not 'live' until the next
    // connect (a refusal is answered, and its view says so).
    if (answers.some((a) => a.status === 'rejected' && !(a.reason instanceof SubscriptionRefused))) return;
    if (!this.socket.connected) return;
    this.lostAt = null;
    this.on.state('live');
  }

  private request(req: SubscribeRequest): Promise<SubscribeResult> {
    const answer = (async () => {
      const res = await this.socket.timeout(10_000).emitWithAck('subscribe', req);
      if (!res.ok) throw new SubscriptionRefused(res.error.code, res.error.message);
      this.on.snapshot(res.data);
      return res.data;
    })();
    this.inflight.add(answer);
    const done = () => void this.inflight.delete(answer);
    answer.then(done, done);
    return answer;
  }

  /**
   * Join a room: resolves with its snapshot (also applied to the store), or null when not
   * connected (the follower subscribes again on connect). Throws SubscriptionRefused when the
   * server refuses. Every subscribe is paired with one unsubscribe.
   */
  async subscribe(req: SubscribeRequest): Promise<SubscribeResult | null> {
    const key = JSON.stringify(req);
    this.holders.set(key, (this.holders.get(key) ?? 0) + 1);
    return this.socket.connected ? this.request(req) : null;
  }

  unsubscribe(req: SubscribeRequest): void {
    const key = JSON.stringify(req);
    const left = (this.holders.get(key) ?? 0) - 1;
    if (left > 0) {
      this.holders.set(key, left);
      return;
    }
    this.holders.delete(key);
    if (this.socket.connected) this.socket.emit('unsubscribe', req);
  }

  close(): void {
    this.socket.close();
  }
}
