// The embedded MQTT broker (aedes) on TCP and on WebSocket (`/mqtt` on the HTTP server).
// It authenticates devices, confines each to its own topics, and hands telemetry to the host
// through synchronous, cheap callbacks: no slow subscriber ever hangs on the hot topic.
import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type AuthenticateError, type PublishPacket } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { DeviceRegistry } from './device-registry.ts';
import { indexedMemoryPersistence } from './retained-index.ts';
import { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
import { DEVICE_ID, errorsTopic, maySubscribe, parseDeviceTopic, publishRefusal, statusTopic } from './topics.ts';
import { DEFAULT_PACKET_LIMITS, MAX_PUBLISH_REMAINING, PacketGuard } from './packet-guard.ts';
import { protocolRefusal, Refusal, sourceAddress } from './refusals.ts';
import type { Lockout } from './auth-failures.ts';
import { clientCertVerdict, peerCertificateOf } from './client-cert.ts';

export interface BrokerHooks {
  /**
   * A telemetry message from an authenticated device (payload not yet validated). May return a
   * promise to apply back-pressure: the device's next packet is read only once it settles.
   * QoS 1 (`qos` > 0): the promise settles once what the message leads to is durable (its readings
   * stored, its refusals recorded), and the PUBACK waits for it; `false` means something of it will
   * not be stored: no PUBACK, the connection is closed and the device sends it again (ADR 0023).
   */
  onVitals(deviceId: string, payload: Buffer, topic: string, receivedAt: number, qos?: number): Promise<boolean | void> | null | void;
  onStatus(deviceId: string, status: 'online' | 'offline', at: number, reason: string): void;
  /** Something a device sent that is refused before decoding (bad status payload, …). */
  onRefused(deviceId: string, topic: string, reason: string, payload?: Buffer): void;
  onConnectionsChanged?(connected: number): void;
  /**
   * A device over its rate limit: `dropped` messages dropped since the last call (called at most
   * once a second per device); `disconnected` when its connection was closed for flooding.
   */
  onRateLimited?(deviceId: string, topic: string, dropped: number, disconnected: boolean): void;
  /** An authenticated device's connection closed for a malformed or oversized MQTT packet. */
  onProtocolError?(deviceId: string, reason: string): void;
  /**
   * A connection refused before it authenticated (labels in refusals.ts). Anyone can cause these:
   * the host counts them, it does not record or log each one.
   */
  onConnectRefused?(address: string, reason: string): void;
  /** A connection claiming this device id was refused because the node is overloaded (not yet authenticated). */
  onOverloadRefused?(deviceId: string): void;
  /** A (device id, source address) pair locked out after failed secrets; `known`: a provisioned device. */
  onLockout?(deviceId: string, address: string, lockout: Lockout, known: boolean): void;
  /** Connections open but not yet authenticated (a gauge; must be cheap). */
  onUnauthenticatedChanged?(count: number): void;
  /** Every message dropped by the rate limit (a counter; must be cheap). */
  onRateLimitDrop?(): void;
}

export interface BrokerOptions {
  registry: DeviceRegistry;
  allowAnonymous: boolean;
  log: Logger;
  hooks: BrokerHooks;
  /** Per-device message rate limit (default 20 msg/s sustained, burst 100). */
  rateLimit?: RateLimitOptions;
  /** Bounds on connections before and after authentication (defaults below). */
  limits?: Partial<ConnectionLimits>;
  /** TLS_CLIENT_CERT_REQUIRED: no device authenticates by its secret alone (broker/client-cert.ts). */
  clientCertRequired?: boolean;
  /** Admission control: false while the node is overloaded (broker/admission.ts); absent = always admit. */
  admit?: () => boolean;
}

export interface ConnectionLimits {
  /** From the socket's opening to a successful authentication (CONNECT included). */
  authTimeoutMs: number;
  /** Bytes a connection may send before it has authenticated. */
  maxPreAuthBytes: number;
  /** Connections open but not yet authenticated, per source address. */
  maxUnauthenticatedPerAddress: number;
  /** Authenticated connections per device (its own and `{id}:{suffix}` ones). */
  maxConnectionsPerDevice: number;
  /**
   * Devices connected at once (MQTT_MAX_DEVICES): the node's measured capacity in beds; one more
   * device gets CONNACK 3 like an overload. 0 = no fixed cap (admission control still applies).
   */
  maxDevices: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  authTimeoutMs: 10_000,
  maxPreAuthBytes: DEFAULT_PACKET_LIMITS.maxPreAuthBytes,
  maxUnauthenticatedPerAddress: 100,
  maxConnectionsPerDevice: 4,
  maxDevices: 0,
};

/**
 * WebSocket: a message may carry one MQTT packet or several; the largest legitimate one is a
 * PUBLISH with its fixed header (5 bytes). Anything bigger closes the connection in `ws` before it
 * is buffered whole (RFC 6455 §10.4: an endpoint limits the size of frames and messages).
 */
export const WS_MAX_PAYLOAD = MAX_PUBLISH_REMAINING + 1024;

export interface Broker {
  readonly aedes: Aedes;
  listenTcp(port: number, host: string): Promise<number>;
  /**
   * The one entry point of every MQTT connection (TCP, WebSocket, TLS): per-address admission,
   * the packet guard and the authentication deadline, then aedes. `req`: the HTTP upgrade request.
   */
  acceptSocket(stream: Duplex, req?: IncomingMessage): void;
  /** Route an HTTP upgrade on `/mqtt` to the broker. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Tell a device why something it sent was refused (`devices/{id}/errors`, QoS 0). */
  publishError(deviceId: string, body: object): void;
  connectedDevices(): number;
  close(): Promise<void>;
}

const notAuthorized = (message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode: 5 as const }) as AuthenticateError;
const identifierRejected = (message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode: 2 as const }) as AuthenticateError;
const serverUnavailable = (message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode: 3 as const }) as AuthenticateError;

export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const { registry, log, hooks } = opts;
  // The device id a client authenticated as (username, or client id in anonymous mode).
  const deviceOf = new WeakMap<Client, string>();
  const connections = new Map<string, number>();
  let connectedCount = 0;
  const limiter = new RateLimiter(opts.rateLimit ?? { ratePerS: 20, burst: 100 });
  /** Devices already being disconnected for flooding (their in-flight packets are just dropped). */
  const cutOff = new WeakSet<Client>();
  /** QoS 1 messages handled in authorizePublish, which `published` then passes over. */
  const taken = new WeakSet<object>();
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.limits };
  const packetLimits = { ...DEFAULT_PACKET_LIMITS, maxPreAuthBytes: limits.maxPreAuthBytes };
  /** Every connection accepted by acceptSocket, by its stream (aedes's `client.conn`). */
  const conns = new WeakMap<Duplex, Conn>();
  /** Connections not yet authenticated, per source address, and in all. */
  const unauthenticated = new Map<string, number>();
  let unauthenticatedCount = 0;
  /** Authenticated connections per device, from authentication until the socket closes. */
  const deviceConns = new Map<string, number>();
  /** The authenticated connection holding each client id (a same-id reconnect takes it over). */
  const byClientId = new Map<string, Conn>();

  const aedes = await Aedes.createBroker({
    // Retained messages indexed by topic: subscribing stays O(1) however large the fleet.
    persistence: indexedMemoryPersistence(),
    // Bound the time a stuck subscriber can hold delivery slots (see shared/PERFORMANCE.md).
    drainTimeout: 10_000,
    concurrency: 1000,
    maxClientsIdLength: 64,
    heartbeatInterval: 60_000,
    // A backstop only: acceptSocket's own deadline (to authentication, not just to CONNECT) fires first.
    connectTimeout: limits.authTimeoutMs + 1000,

    authenticate(client, username, password, done) {
      const conn = conns.get(client.conn as Duplex);
      const address = conn?.address ?? sourceAddress(remoteOf(client));
      // Each refusal is labelled by what it is and counted once; the error aedes then emits for the
      // closed connection is not recorded again (`conn.refused`). CONNACK carries only a code.
      const refuse = (err: AuthenticateError, reason: string) => {
        if (conn) conn.refused = true;
        hooks.onConnectRefused?.(address, reason);
        done(err, false);
      };
      // With a verified client certificate and no user name, the client id is the claimed device id.
      const peer = peerCertificateOf(client.conn);
      const deviceId = username ?? (opts.allowAnonymous || peer?.authorized ? client.id : undefined);
      if (!deviceId) return refuse(notAuthorized('username (device id) required'), Refusal.badCredentials);
      if (!DEVICE_ID.test(deviceId)) return refuse(identifierRejected('user name is not a device id'), Refusal.badCredentials);
      // The client id is the device id (or `{deviceId}:{suffix}` for a second connection of the same
      // device, e.g. a debugging subscriber): no device can take over another device's session.
      if (client.id !== deviceId && !client.id.startsWith(`${deviceId}:`)) {
        return refuse(identifierRejected(`client id must be the device id '${deviceId}' or '${deviceId}:<suffix>'`), Refusal.clientIdMismatch);
      }
      // Overloaded: refuse before any work is spent on it (broker/admission.ts). A device that holds
      // a connection already is not marked offline by a second one being refused.
      const atCapacity = () => limits.maxDevices > 0 && deviceConns.size >= limits.maxDevices && !deviceConns.get(deviceId);
      const refuseForLoad = (reason: string) => {
        refuse(serverUnavailable(reason), reason);
        if (!deviceConns.get(deviceId)) hooks.onOverloadRefused?.(deviceId);
      };
      if (atCapacity()) return refuseForLoad(Refusal.atCapacity);
      if (opts.admit && !opts.admit()) return refuseForLoad(Refusal.overloaded);
      // A certificate whose CN is the device id authenticates it; one that does not verify or names
      // another device is refused; none falls back to the secret unless one is required.
      const cert = clientCertVerdict(peer, deviceId, opts.clientCertRequired ?? false);
      if (cert.result === 'refuse') return refuse(notAuthorized(cert.reason), cert.reason);
      const admit = () => {
        // Business-flow limit: a device may hold a few connections (its own, a debugging
        // subscriber …), not an unbounded number of `{id}:{suffix}` ones. A reconnect with a client
        // id already connected replaces that connection (session takeover), so it is let through.
        // (Counted for connections that came through acceptSocket, which uncounts them on close.)
        if (conn) {
          // Checked again here: others may have been admitted while this one authenticated.
          if (atCapacity()) return refuseForLoad(Refusal.atCapacity);
          const held = deviceConns.get(deviceId) ?? 0;
          if (held >= limits.maxConnectionsPerDevice && !byClientId.has(client.id)) {
            return refuse(notAuthorized(Refusal.tooManyForDevice), Refusal.tooManyForDevice);
          }
          deviceConns.set(deviceId, held + 1);
          conn.deviceId = deviceId;
          conn.clientId = client.id;
          byClientId.set(client.id, conn);
          authenticated(conn);
        }
        deviceOf.set(client, deviceId);
        done(null, true);
      };
      if (cert.result === 'certificate' && registry.get(deviceId)) return admit();
      // Anonymous mode (bench rigs) admits unknown ids without a password, never a provisioned one.
      if (opts.allowAnonymous && !password && !registry.get(deviceId)) return admit();
      const alive = () => !client.closed && !conn?.refused;
      registry.authenticate(deviceId, password?.toString('utf8') ?? '', address, alive).then(
        (r) => {
          if (!alive()) return done(notAuthorized('connection closed'), false);
          if (r.ok) return admit();
          if (r.reason === 'gone') return done(notAuthorized('connection closed'), false);
          if (r.lockout) hooks.onLockout?.(deviceId, address, r.lockout, registry.get(deviceId) !== undefined);
          refuse(notAuthorized(r.reason), r.reason);
        },
        (err: Error) => {
          log.error({ err, deviceId }, 'device authentication failed');
          refuse(notAuthorized(Refusal.authError), Refusal.authError);
        },
      );
    },

    authorizePublish(client, packet, callback) {
      if (!client) {
        // A will published for a client already gone: only status wills are legitimate.
        return callback(parseDeviceTopic(packet.topic)?.kind === 'status' ? null : new Error('orphan publish refused'));
      }
      const deviceId = deviceOf.get(client);
      if (!deviceId) return callback(new Error('unauthenticated client'));
      const refusal = publishRefusal(deviceId, packet.topic);
      if (refusal) {
        // [MQTT-3.3.5-2] the connection is closed; there is no way to tell the client why in 3.1.1,
        // so the reason is recorded for the device's owner.
        hooks.onRefused(deviceId, packet.topic, refusal);
        log.warn({ deviceId, topic: packet.topic }, refusal);
        return callback(new Error(refusal));
      }
      // QoS 1 (and 2) messages are taken here, not in `published`: aedes writes the PUBACK after
      // this callback and before `published` runs (lib/handlers/publish.js), so only here can the
      // acknowledgement wait until the message is durable (ADR 0023).
      // (A will is authorized here too, as the connection closes: it goes on through `published`.)
      if (packet.qos > 0 && packet !== (client as { will?: unknown }).will) return takeAcknowledged(client, deviceId, packet, callback);
      callback(null);
    },

    authorizeSubscribe(client, sub, callback) {
      const deviceId = deviceOf.get(client);
      // Refused filters get SUBACK 0x80 rather than a disconnect.
      callback(null, deviceId && maySubscribe(deviceId, sub.topic) ? sub : null);
    },

    published(packet, client, callback) {
      // Synchronous and cheap: the hooks only validate and queue. QoS 1 telemetry was taken in
      // authorizePublish already.
      if (taken.has(packet)) return callback(null);
      if (client) {
        const deviceId = deviceOf.get(client);
        const t = parseDeviceTopic(packet.topic);
        if (deviceId && t) {
          // QoS 0 messages over the rate limit are dropped (QoS 1 ones are slowed instead, in
          // takeAcknowledged); the flood is reported at most once a second, and ends in a disconnect.
          if (cutOff.has(client)) return callback(null);
          const v = limiter.check(deviceId, Date.now());
          if (!v.ok) {
            hooks.onRateLimitDrop?.();
            if (v.report > 0 || v.disconnect) {
              const reason = v.disconnect
                ? `rate limit exceeded for 10 s (${opts.rateLimit?.ratePerS ?? 20} msg/s): disconnected`
                : `rate limit exceeded (${opts.rateLimit?.ratePerS ?? 20} msg/s, burst ${opts.rateLimit?.burst ?? 100}): ${v.report} message(s) dropped`;
              hooks.onRateLimited?.(deviceId, packet.topic, v.report, v.disconnect);
              publishError(deviceId, { topic: packet.topic, ts: Date.now(), issues: [{ reason, refused: true }] });
              if (v.disconnect) {
                cutOff.add(client);
                log.warn({ deviceId }, 'device disconnected for flooding');
                setImmediate(() => client.close());
              }
            }
            return callback(null);
          }
          try {
            if (t.kind === 'vitals') {
              const wait = hooks.onVitals(deviceId, packet.payload as Buffer, packet.topic, Date.now());
              if (wait) return void wait.then(() => callback(null));
            } else if (t.kind === 'status') handleStatus(deviceId, packet.payload as Buffer, packet.topic, client.connected ? 1 : 0);
          } catch (err) {
            log.error({ err, deviceId }, 'telemetry handler failed');
          }
        }
      } else if (packet.topic.endsWith('/status')) {
        // The will of a client that vanished, published by the broker on its behalf.
        const t = parseDeviceTopic(packet.topic);
        if (t) handleStatus(t.deviceId, packet.payload as Buffer, packet.topic, 0);
      }
      callback(null);
    },
  });

  /**
   * A QoS 1 message from a device: paced by the rate limit (held, never dropped: a reconnecting
   * device's backlog is slowed by back-pressure, since aedes reads no further packet of this
   * connection until this one is answered), handed to the host, and authorized — so acknowledged —
   * only once the host says it is durable. Anything not stored is refused: the connection is
   * closed without a PUBACK and the device sends the message again.
   */
  function takeAcknowledged(client: Client, deviceId: string, packet: PublishPacket, callback: (err: Error | null) => void): void {
    taken.add(packet);
    const kind = parseDeviceTopic(packet.topic)?.kind;
    const refuse = (reason: string) => {
      const conn = conns.get(client.conn as Duplex);
      if (conn?.refused || client.closed) return callback(new Error('connection closed'));
      if (conn) conn.refused = true;
      log.warn({ deviceId, reason }, 'QoS 1 message not acknowledged; connection closed');
      hooks.onRefused(deviceId, packet.topic, reason);
      callback(new Error(reason));
    };
    const take = () => {
      if (cutOff.has(client) || client.closed) return callback(new Error('connection closed'));
      try {
        if (kind === 'status') {
          handleStatus(deviceId, packet.payload as Buffer, packet.topic, client.connected ? 1 : 0);
          return callback(null);
        }
        const durable = hooks.onVitals(deviceId, packet.payload as Buffer, packet.topic, Date.now(), packet.qos);
        if (!durable) return callback(null);
        durable.then(
          (ok) => (ok === false ? refuse('not stored (write buffer and spill full, or refused by the database): not acknowledged, connection closed') : callback(null)),
          (err: Error) => {
            log.error({ err, deviceId }, 'telemetry handler failed');
            refuse('not stored (internal error): not acknowledged, connection closed');
          },
        );
      } catch (err) {
        log.error({ err, deviceId }, 'telemetry handler failed');
        refuse('not stored (internal error): not acknowledged, connection closed');
      }
    };
    const waitMs = limiter.reserve(deviceId, Date.now());
    if (waitMs > 0) setTimeout(take, waitMs);
    else take();
  }

  /** `own`: how many of the device's live connections the publisher itself accounts for. */
  function handleStatus(deviceId: string, payload: Buffer, topic: string, own: number): void {
    const text = payload.toString('utf8').trim();
    if (text === 'online' || text === 'offline') {
      // A will saying "offline" while another connection of the same device is up is stale.
      if (text === 'offline' && (connections.get(deviceId) ?? 0) > own) return;
      hooks.onStatus(deviceId, text, Date.now(), 'status message');
    } else {
      hooks.onRefused(deviceId, topic, `status payload must be 'online' or 'offline', got ${JSON.stringify(text.slice(0, 40))}`, payload);
    }
  }

  // A device's connections are counted from aedes's clientReady to the close of its socket (which
  // always comes, once), and it is announced offline when its last authenticated socket closes.
  // Not by aedes's clientDisconnect: aedes emits it only while its registry holds that client id,
  // and two takeovers of one id racing in a reconnect storm leave a connection that never gets one
  // — counted for ever, its device never announced offline (bench/README.md). A takeover under way
  // keeps the device's authenticated count above zero, so it is not announced offline in between.
  aedes.on('clientReady', (client) => {
    const deviceId = deviceOf.get(client);
    const conn = conns.get(client.conn as Duplex);
    if (!deviceId || !conn || conn.ready || conn.stream.destroyed) return;
    conn.ready = true;
    connections.set(deviceId, (connections.get(deviceId) ?? 0) + 1);
    connectedCount++;
    hooks.onConnectionsChanged?.(connectedCount);
    hooks.onStatus(deviceId, 'online', Date.now(), 'connected');
  });
  function deviceSocketClosed(conn: Conn & { deviceId: string }): void {
    const { deviceId } = conn;
    const authenticatedLeft = countDown(deviceConns, deviceId);
    if (conn.ready) {
      countDown(connections, deviceId);
      connectedCount = Math.max(0, connectedCount - 1);
      hooks.onConnectionsChanged?.(connectedCount);
    }
    if (authenticatedLeft > 0) return;
    limiter.forget(deviceId);
    hooks.onStatus(deviceId, 'offline', Date.now(), 'connection closed');
    // Keep the retained status truthful for anyone who subscribes later.
    if (!aedes.closed) aedes.publish({ cmd: 'publish', topic: statusTopic(deviceId), payload: Buffer.from('offline'), qos: 1, retain: true, dup: false }, () => undefined);
  }
  // Socket-level noise (resets, timeouts) is not the device's fault; anything else is a packet
  // the parser or a handler refused, and the connection is closed for it ([MQTT-4.8.0-1]).
  const socketNoise = /ECONNRESET|EPIPE|ETIMEDOUT|write after end|connection closed|keep ?alive timeout|connect timeout/i;
  const protocolError = (client: Client | null | undefined, err: Error) => {
    const conn = client ? conns.get(client.conn as Duplex) : undefined;
    // Already refused and counted (authentication, the packet guard, the deadline).
    if (conn?.refused) return;
    if (socketNoise.test(err.message) || (client && cutOff.has(client))) return;
    if (conn) conn.refused = true;
    const deviceId = client ? (deviceOf.get(client) ?? null) : null;
    const reason = protocolRefusal(err.message);
    if (deviceId === null) {
      // Before authentication: anyone's, so counted per address and minute, not logged each time.
      hooks.onConnectRefused?.(conn?.address ?? sourceAddress(client ? remoteOf(client) : undefined), reason);
      return;
    }
    log.warn({ deviceId, remote: client ? remoteOf(client) : undefined, err: err.message }, 'malformed MQTT packet; connection closed');
    hooks.onProtocolError?.(deviceId, reason);
  };
  aedes.on('clientError', (client, err) => {
    log.debug({ client: client?.id, err: err.message }, 'mqtt client error');
    protocolError(client, err);
  });
  aedes.on('connectionError', (client, err) => {
    log.debug({ client: client?.id, err: err.message }, 'mqtt connection error');
    protocolError(client, err);
  });

  function publishError(deviceId: string, body: object): void {
    aedes.publish(
      { cmd: 'publish', topic: errorsTopic(deviceId), payload: Buffer.from(JSON.stringify(body)), qos: 0, retain: false, dup: false },
      () => undefined,
    );
  }

  /** The connection has authenticated: it leaves its address's unauthenticated count. */
  function authenticated(conn: Conn): void {
    conn.guard.authenticated = true;
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = null;
    leavePending(conn);
  }

  function leavePending(conn: Conn): void {
    if (!conn.pending) return;
    conn.pending = false;
    countDown(unauthenticated, conn.address);
    unauthenticatedCount--;
    hooks.onUnauthenticatedChanged?.(unauthenticatedCount);
  }

  /** Close a connection for `reason`, recorded once: counted before authentication, a row after. */
  function refuseConn(conn: Conn, reason: string): void {
    if (conn.refused) return;
    conn.refused = true;
    if (conn.deviceId === null) hooks.onConnectRefused?.(conn.address, reason);
    else {
      log.warn({ deviceId: conn.deviceId, remote: conn.address, reason }, 'MQTT connection closed');
      hooks.onProtocolError?.(conn.deviceId, reason);
    }
    conn.stream.destroy();
  }

  function acceptSocket(stream: Duplex, req?: IncomingMessage): void {
    const address = sourceAddress(req?.socket?.remoteAddress ?? (stream as Partial<Socket>).remoteAddress);
    // Nagle's algorithm is where the p99 went (shared/PERFORMANCE.md).
    (stream as Partial<Socket>).setNoDelay?.(true);
    const pendingHere = unauthenticated.get(address) ?? 0;
    if (pendingHere >= limits.maxUnauthenticatedPerAddress) {
      hooks.onConnectRefused?.(address, Refusal.tooManyUnauthenticated);
      stream.on('error', () => undefined);
      stream.destroy();
      return;
    }
    unauthenticated.set(address, pendingHere + 1);
    unauthenticatedCount++;
    hooks.onUnauthenticatedChanged?.(unauthenticatedCount);
    const conn: Conn = { stream, address, guard: new PacketGuard(packetLimits), pending: true, refused: false, deviceId: null, clientId: null, ready: false, timer: null };
    conns.set(stream, conn);
    conn.timer = setTimeout(() => refuseConn(conn, Refusal.authTimeout), limits.authTimeoutMs);
    stream.once('close', () => {
      if (conn.timer) clearTimeout(conn.timer);
      leavePending(conn);
      if (conn.clientId !== null && byClientId.get(conn.clientId) === conn) byClientId.delete(conn.clientId);
      if (conn.deviceId !== null) deviceSocketClosed(conn as Conn & { deviceId: string });
    });
    aedes.handle(stream, req);
    // Attached after aedes's 'readable' listener, a 'data' listener does not switch the stream to
    // flowing mode: it is called by each read() aedes makes, with the chunk it is about to parse
    // (Node.js stream docs, "Choose one API style"). The guard sees every header before its body
    // is buffered, and costs a few comparisons per packet once authenticated.
    stream.on('data', (chunk: Buffer) => {
      const refusal = conn.guard.feed(chunk);
      if (refusal) refuseConn(conn, refusal);
    });
  }

  const tcp: Server = createServer((socket: Socket) => acceptSocket(socket));
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD });

  return {
    aedes,
    listenTcp(port, host) {
      return new Promise((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          tcp.off('error', reject);
          resolve((tcp.address() as { port: number }).port);
        });
      });
    },
    handleUpgrade(req, socket, head) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        (socket as Socket).setNoDelay?.(true);
        // WebSocket frames may split or join MQTT packets: the guard reads the byte stream.
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        acceptSocket(stream, req);
        // A message over maxPayload is refused by `ws` itself (close 1009) before the guard sees it.
        ws.once('error', (err: Error & { code?: string }) => {
          const conn = conns.get(stream);
          if (conn && err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') refuseConn(conn, `packet too large: WebSocket message over ${WS_MAX_PAYLOAD} bytes`);
        });
      });
    },
    acceptSocket,
    publishError,
    connectedDevices: () => connectedCount,
    async close() {
      // Stop accepting first; the listener's close callback fires only once every client is gone,
      // which aedes.close() brings about.
      const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
      await tcpClosed;
    },
  };
}

/** What the broker knows of a connection before and after it authenticates. */
interface Conn {
  stream: Duplex;
  /** Source address (IPv4-mapped IPv6 as IPv4). */
  address: string;
  guard: PacketGuard;
  /** Still counted among its address's unauthenticated connections. */
  pending: boolean;
  /** Refused and recorded: nothing more is recorded for it. */
  refused: boolean;
  /** The device it authenticated as (counted per device until the socket closes). */
  deviceId: string | null;
  clientId: string | null;
  /** aedes said clientReady for it: among the device's live connections until the socket closes. */
  ready: boolean;
  /** The authentication deadline. */
  timer: NodeJS.Timeout | null;
}

/** One less of `key`: its count, dropped from the map at zero (never below). Returns what is left. */
function countDown(counts: Map<string, number>, key: string): number {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
  return Math.max(0, left);
}

function remoteOf(client: Client): string | undefined {
  const conn = client.conn as Partial<Socket>;
  return conn.remoteAddress;
}
