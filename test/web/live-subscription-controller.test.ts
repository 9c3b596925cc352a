// @vitest-environment happy-dom
// LiveSubscriptionController (web/src/controllers/live-subscription-controller.ts): subscribes
// when the host connects, again after every (re)connect of the shared client and when its key
// changes, and cleans up when the host leaves the DOM; the new subscription is always made
// before the old one ends, so a room kept across a reconnect is never left in between.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { LitElement, html } from 'lit';
import { LiveSubscriptionController, type LiveSubscriptionContext, type Reconnecting } from '../../web/src/controllers/live-subscription-controller.ts';
import { handshakeCode } from '../../web/src/realtime.ts';
import { session } from '../../web/src/api.ts';

/** Stands in for the page's LiveClient: only the connect notifications matter here. */
class FakeClient implements Reconnecting {
  readonly listeners = new Set<(since: number | null) => void>();
  onConnected(fn: (since: number | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  connect(since: number | null): void {
    for (const fn of [...this.listeners]) fn(since);
  }
}

function fakeHost() {
  const controllers: ReactiveController[] = [];
  const host = {
    addController: (c: ReactiveController) => void controllers.push(c),
    removeController: () => undefined,
    requestUpdate: vi.fn(),
    updateComplete: Promise.resolve(true),
    connect: () => controllers.forEach((c) => c.hostConnected?.()),
    update: () => controllers.forEach((c) => c.hostUpdate?.()),
    disconnect: () => controllers.forEach((c) => c.hostDisconnected?.()),
  };
  return host as typeof host & ReactiveControllerHost;
}

/** A controller whose subscribe/cleanup calls are written to a log, in order. */
function setup(initialKey: string | null = 'A') {
  const client = new FakeClient();
  const host = fakeHost();
  const log: string[] = [];
  const contexts: LiveSubscriptionContext<FakeClient>[] = [];
  let key = initialKey;
  const ctl = new LiveSubscriptionController<FakeClient>(host, {
    key: () => key,
    client: () => client,
    subscribe: (ctx) => {
      contexts.push(ctx);
      const n = contexts.length;
      log.push(`+${ctx.key}#${n}`);
      return () => log.push(`-${ctx.key}#${n}`);
    },
  });
  return { client, host, log, contexts, ctl, setKey: (k: string | null) => (key = k) };
}

afterEach(() => {
  document.body.innerHTML = '';
  session.clear();
});

describe('LiveSubscriptionController', () => {
  it('subscribes when the host connects, as a new subscription', () => {
    const { host, log, contexts, ctl, client } = setup();
    expect(log).toEqual([]);
    host.connect();
    expect(log).toEqual(['+A#1']);
    expect(contexts[0]).toMatchObject({ client, key: 'A', opened: true, since: null });
    expect(ctl.key).toBe('A');
  });

  it('subscribes nothing while the key is empty, and starts once it is set', () => {
    const { host, log, setKey, ctl } = setup('');
    host.connect();
    host.update();
    expect(log).toEqual([]);
    expect(ctl.key).toBeNull();
    setKey('B');
    host.update();
    expect(log).toEqual(['+B#1']);
  });

  it('subscribes again on every (re)connect of the client: the new one first, then the old one ends', () => {
    const { host, log, contexts, client } = setup();
    host.connect();
    client.connect(null); // first connect of a socket that was still connecting
    const lostAt = Date.UTC(2026, 10, 21, 12, 0, 0);
    client.connect(lostAt); // a reconnect after a loss
    expect(log).toEqual(['+A#1', '+A#2', '-A#1', '+A#3', '-A#2']);
    expect(contexts.map((c) => [c.opened, c.since])).toEqual([
      [true, null],
      [false, null],
      [false, lostAt],
    ]);
  });

  it('follows a changed key in the host update: subscribes to the new key, ends the old', () => {
    const { host, log, contexts, setKey } = setup();
    host.connect();
    host.update();
    expect(log).toEqual(['+A#1']); // an update with the same key changes nothing
    setKey('B');
    host.update();
    expect(log).toEqual(['+A#1', '+B#2', '-A#1']);
    expect(contexts[1]).toMatchObject({ key: 'B', opened: true, since: null });
    setKey(null);
    host.update();
    expect(log).toEqual(['+A#1', '+B#2', '-A#1', '-B#2']);
  });

  it('cleans up when the host disconnects and hears no reconnect afterwards', () => {
    const { host, log, client, ctl } = setup();
    host.connect();
    host.disconnect();
    expect(log).toEqual(['+A#1', '-A#1']);
    expect(client.listeners.size).toBe(0);
    expect(ctl.key).toBeNull();
    client.connect(123);
    host.update();
    expect(log).toEqual(['+A#1', '-A#1']);
  });

  it('subscribes afresh when the host comes back into the DOM', () => {
    const { host, log, contexts } = setup();
    host.connect();
    host.disconnect();
    host.connect();
    expect(log).toEqual(['+A#1', '-A#1', '+A#2']);
    expect(contexts[1]!.opened).toBe(true);
    host.disconnect();
  });

  it('resubscribe() makes the subscription again, as a new one', () => {
    const { host, log, contexts, ctl } = setup();
    host.connect();
    ctl.resubscribe();
    expect(log).toEqual(['+A#1', '+A#2', '-A#1']);
    expect(contexts[1]!.opened).toBe(true);
  });

  it('a subscribe that returns no cleanup is fine', () => {
    const client = new FakeClient();
    const host = fakeHost();
    const seen: string[] = [];
    new LiveSubscriptionController<FakeClient>(host, { key: () => 'A', client: () => client, subscribe: (ctx) => void seen.push(ctx.key) });
    host.connect();
    client.connect(null);
    host.disconnect();
    expect(seen).toEqual(['A', 'A']);
  });

  it('stays idle when there is no client (not logged in: the page shows the login form)', () => {
    session.clear();
    const host = fakeHost();
    const subscribe = vi.fn();
    // the default client is the page's liveClient(), which throws without a session
    const ctl = new LiveSubscriptionController(host, { key: () => 'A', subscribe });
    host.connect();
    host.update();
    host.disconnect();
    expect(subscribe).not.toHaveBeenCalled();
    expect(ctl.key).toBeNull();
  });

  it('drives a Lit element: its key property is followed before it renders', async () => {
    const client = new FakeClient();
    const log: string[] = [];
    class SubTestElement extends LitElement {
      static override properties = { ward: { type: String } };
      declare ward: string;
      readonly live = new LiveSubscriptionController<FakeClient>(this, {
        key: () => this.ward,
        client: () => client,
        subscribe: ({ key }) => {
          log.push(`+${key}`);
          return () => log.push(`-${key}`);
        },
      });
      constructor() {
        super();
        this.ward = '';
      }
      override render() {
        return html`${this.live.key ?? 'none'}`;
      }
    }
    customElements.define('sub-test-element', SubTestElement);
    const el = document.createElement('sub-test-element') as SubTestElement;
    el.ward = 'A';
    document.body.append(el);
    await el.updateComplete;
    expect(log).toEqual(['+A']);
    expect(el.shadowRoot!.textContent).toBe('A');
    el.ward = 'B';
    await el.updateComplete;
    expect(log).toEqual(['+A', '+B', '-A']);
    expect(el.shadowRoot!.textContent).toBe('B');
    client.connect(1);
    expect(log).toEqual(['+A', '+B', '-A', '+B', '-B']);
    el.remove();
    expect(log).toEqual(['+A', '+B', '-A', '+B', '-B', '-B']);
    expect(client.listeners.size).toBe(0);
  });
});

describe('handshakeCode', () => {
  it("reads the code the server puts in a refused handshake's data, never the message", () => {
    expect(handshakeCode(Object.assign(new Error('unauthorized: a valid token is required'), { data: { code: 'ERR_UNAUTHENTICATED' } }))).toBe('ERR_UNAUTHENTICATED');
    expect(handshakeCode(Object.assign(new Error('anything'), { data: { code: 'ERR_FORBIDDEN' } }))).toBe('ERR_FORBIDDEN');
    // a transport failure has no code, whatever its message says
    expect(handshakeCode(new Error('unauthorized'))).toBeUndefined();
    expect(handshakeCode(Object.assign(new Error('websocket error'), { data: { code: 42 } }))).toBeUndefined();
  });
});
