// A Lit element's subscription to a room on the page's one live connection (context.ts):
// made when the element enters the DOM and when its key changes (another ward, another patient:
// `opened`), made again on every connect and reconnect of the client (which brings a fresh
// snapshot; `since` says what to back-fill), and ended when the element leaves the DOM. What to subscribe to is the host's
// business: `subscribe` joins the room, registers whatever listens to it, and returns the
// function that undoes all of that.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { liveClient } from '../context.ts';
import type { LiveClient } from '../realtime.ts';

/** What the controller needs of the client: to hear of every (re)connect. */
export interface Reconnecting {
  onConnected(fn: (since: number | null) => void): () => void;
}

export interface LiveSubscriptionContext<C> {
  client: C;
  /** The key this subscription is for (e.g. the ward). */
  key: string;
  /**
   * True when the subscription is new (the host entered the DOM, or the key changed): load what
   * goes with it. False when it is made again on a (re)connect of the client.
   */
  opened: boolean;
  /** After a reconnect: when the connection was lost (epoch ms), to back-fill from; otherwise null. */
  since: number | null;
}

export interface LiveSubscriptionOptions<C extends Reconnecting> {
  /** What to follow; nothing is subscribed while it is empty or null. Read on connect and on each host update. */
  key: () => string | null | undefined;
  /** Join the room (and listen to it); return the function that leaves it again. */
  subscribe: (ctx: LiveSubscriptionContext<C>) => (() => void) | void;
  /** The page's live client (injectable for tests). */
  client?: () => C;
}

export class LiveSubscriptionController<C extends Reconnecting = LiveClient> implements ReactiveController {
  private client: C | null = null;
  private offConnected: (() => void) | null = null;
  private cleanup: (() => void) | null = null;
  private current: string | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: LiveSubscriptionOptions<C>,
  ) {
    host.addController(this);
  }

  /** The key currently subscribed, or null. */
  get key(): string | null {
    return this.current;
  }

  hostConnected(): void {
    try {
      this.client = (this.options.client ?? (liveClient as unknown as () => C))();
    } catch {
      // Not logged in: the app shows the login page instead of this element.
      this.client = null;
      return;
    }
    this.offConnected = this.client.onConnected((since) => this.open(this.current, false, since));
    this.open(this.wanted(), true, null);
  }

  /** Runs after the host's willUpdate: a changed key is followed before the host renders. */
  hostUpdate(): void {
    const key = this.wanted();
    if (this.client && key !== this.current) this.open(key, true, null);
  }

  hostDisconnected(): void {
    this.offConnected?.();
    this.offConnected = null;
    this.close();
    this.client = null;
  }

  /** Subscribe again now (e.g. after the host changed what its subscription listens for). */
  resubscribe(): void {
    if (this.client) this.open(this.current, true, null);
  }

  private wanted(): string | null {
    return this.options.key() || null;
  }

  private open(key: string | null, opened: boolean, since: number | null): void {
    const previous = this.cleanup;
    this.cleanup = null;
    this.current = key;
    // The new subscription first, then the old one ends: a room kept across a reconnect is never
    // left in between (the client counts who holds each room).
    if (key !== null && this.client) this.cleanup = this.options.subscribe({ client: this.client, key, opened, since }) ?? null;
    previous?.();
  }

  private close(): void {
    const previous = this.cleanup;
    this.cleanup = null;
    this.current = null;
    previous?.();
  }
}
