// Socket.IO client: authenticates with the session token, keeps its subscriptions across
// reconnects (re-subscribing gives a fresh snapshot), and reports its connection state so the
// dashboard can say when what it shows may be out of date.
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
  /** After a reconnect and re-subscription: back-fill what happened since `since` (epoch ms). */
  reconnected(since: number): void;
  /**
   * The server refused a subscription made while connecting or again after a reconnect (e.g. a
   * kiosk whose wards an admin changed): the view must say so rather than show stale beds.
   */
  refused(req: SubscribeRequest, message: string): void;
}

/** The server answered a subscription with an error (not a timeout or a lost connection). */
export class SubscriptionRefused extends Error {}

/** How long to wait for the server to answer an alarm command. */
const ACT_TIMEOUT_MS = 10_000;

export class LiveClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly subscriptions = new Map<string, SubscribeRequest>();
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
      on.state(/unauthorized|forbidden/.test(err.message) ? 'unauthorized' : 'reconnecting');
    });
    this.socket.on('vitals', (b) => on.vitals(b));
    this.socket.on('score', (e) => on.score(e));
    this.socket.on('alert', (e) => on.alert(e));
    this.socket.on('device', (e) => on.device(e));
    this.socket.on('escalation', (e) => on.escalation(e));
  }

  /**
   * Acknowledge, silence or resolve an alarm; resolves with the alarm as the server now has it
   * (also applied at once, before the room's `alert` push arrives). Throws with the server's
   * message when refused.
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
    if (!res.ok) throw new Error(res.error.message);
    this.on.alert(res.data);
    return res.data;
  }

  private async onConnect(): Promise<void> {
    for (const req of this.subscriptions.values()) {
      try {
        await this.request(req);
      } catch (err) {
        if (!(err instanceof SubscriptionRefused)) throw err;
        // Kept: a reconnect after the account's access changed back asks again.
        this.on.refused(req, err.message);
      }
    }
    this.on.state('live');
    if (this.lostAt !== null) {
      const since = this.lostAt;
      this.lostAt = null;
      this.on.reconnected(since);
    }
  }

  private async request(req: SubscribeRequest): Promise<SubscribeResult> {
    const res = await this.socket.timeout(10_000).emitWithAck('subscribe', req);
    if (!res.ok) throw new SubscriptionRefused(res.error.message);
    this.on.snapshot(res.data);
    return res.data;
  }

  async subscribe(req: SubscribeRequest): Promise<SubscribeResult | null> {
    this.subscriptions.set(JSON.stringify(req), req);
    return this.socket.connected ? this.request(req) : null;
  }

  unsubscribe(req: SubscribeRequest): void {
    this.subscriptions.delete(JSON.stringify(req));
    if (this.socket.connected) this.socket.emit('unsubscribe', req);
  }

  close(): void {
    this.socket.close();
  }
}
