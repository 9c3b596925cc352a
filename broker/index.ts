// The embedded MQTT broker (aedes) on TCP and on WebSocket (`/mqtt` on the HTTP server).
// It authenticates devices, confines each to its own topics, and hands telemetry to the host
// through synchronous, cheap callbacks: no slow subscriber ever hangs on the hot topic.
import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type AuthenticateError } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from 'pino';
import type { DeviceRegistry } from './device-registry.ts';
import { indexedMemoryPersistence } from './retained-index.ts';
import { RateLimiter, type RateLimitOptions } from './rate-limit.ts';
import { DEVICE_ID, errorsTopic, maySubscribe, parseDeviceTopic, publishRefusal, statusTopic } from './topics.ts';

export interface BrokerHooks {
  /**
   * A telemetry message from an authenticated device (payload not yet validated). May return a
   * promise to apply back-pressure: the device's next packet is read only once it settles.
   */
  onVitals(deviceId: string, payload: Buffer, topic: string, receivedAt: number): Promise<void> | null | void;
  onStatus(deviceId: string, status: 'online' | 'offline', at: number, reason: string): void;
  /** Something a device sent that is refused before decoding (bad status payload, …). */
  onRefused(deviceId: string, topic: string, reason: string, payload?: Buffer): void;
  onConnectionsChanged?(connected: number): void;
  /**
   * A device over its rate limit: `dropped` messages dropped since the last call (called at most
   * once a second per device); `disconnected` when its connection was closed for flooding.
   */
  onRateLimited?(deviceId: string, topic: string, dropped: number, disconnected: boolean): void;
  /** A connection closed for a malformed MQTT packet (`deviceId` null before CONNECT succeeded). */
  onProtocolError?(deviceId: string | null, reason: string): void;
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
}

export interface Broker {
  readonly aedes: Aedes;
  listenTcp(port: number, host: string): Promise<number>;
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

export async function createBroker(opts: BrokerOptions): Promise<Broker> {
  const { registry, log, hooks } = opts;
  // The device id a client authenticated as (username, or client id in anonymous mode).
  const deviceOf = new WeakMap<Client, string>();
  const connections = new Map<string, number>();
  let connectedCount = 0;
  const limiter = new RateLimiter(opts.rateLimit ?? { ratePerS: 20, burst: 100 });
  /** Devices already being disconnected for flooding (their in-flight packets are just dropped). */
  const cutOff = new WeakSet<Client>();

  const aedes = await Aedes.createBroker({
    // Retained messages indexed by topic: subscribing stays O(1) however large the fleet.
    persistence: indexedMemoryPersistence(),
    // Bound the time a stuck subscriber can hold delivery slots (see shared/PERFORMANCE.md).
    drainTimeout: 10_000,
    concurrency: 1000,
    maxClientsIdLength: 64,
    heartbeatInterval: 60_000,
    connectTimeout: 10_000,

    authenticate(client, username, password, done) {
      const deviceId = username ?? (opts.allowAnonymous ? client.id : undefined);
      if (!deviceId) return done(notAuthorized('username (device id) required'), false);
      if (!DEVICE_ID.test(deviceId)) return done(identifierRejected(`invalid device id '${deviceId}'`), false);
      // The client id is the device id (or `{deviceId}:{suffix}` for a second connection of the same
      // device, e.g. a debugging subscriber): no device can take over another device's session.
      if (client.id !== deviceId && !client.id.startsWith(`${deviceId}:`)) {
        return done(identifierRejected(`client id must be the device id '${deviceId}' or '${deviceId}:<suffix>'`), false);
      }
      // Anonymous mode (bench rigs) admits unknown ids without a password, never a provisioned one.
      if (opts.allowAnonymous && !password && !registry.get(deviceId)) {
        deviceOf.set(client, deviceId);
        return done(null, true);
      }
      registry.authenticate(deviceId, password?.toString('utf8') ?? '').then(
        (ok) => {
          if (!ok) {
            log.warn({ deviceId, remote: remoteOf(client) }, 'device authentication refused');
            return done(notAuthorized('unknown device or wrong secret'), false);
          }
          deviceOf.set(client, deviceId);
          done(null, true);
        },
        (err: Error) => {
          log.error({ err, deviceId }, 'device authentication failed');
          done(notAuthorized('authentication error'), false);
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
      callback(null);
    },

    authorizeSubscribe(client, sub, callback) {
      const deviceId = deviceOf.get(client);
      // Refused filters get SUBACK 0x80 rather than a disconnect.
      callback(null, deviceId && maySubscribe(deviceId, sub.topic) ? sub : null);
    },

    published(packet, client, callback) {
      // Synchronous and cheap: the hooks only validate and queue.
      if (client) {
        const deviceId = deviceOf.get(client);
        const t = parseDeviceTopic(packet.topic);
        if (deviceId && t) {
          // Rate-limited messages are dropped after PUBACK (so a QoS 1 device does not resend
          // them); the flood is reported at most once a second, and ends in a disconnect.
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

  aedes.on('clientReady', (client) => {
    const deviceId = deviceOf.get(client);
    if (!deviceId) return;
    connections.set(deviceId, (connections.get(deviceId) ?? 0) + 1);
    connectedCount++;
    hooks.onConnectionsChanged?.(connectedCount);
    hooks.onStatus(deviceId, 'online', Date.now(), 'connected');
  });
  aedes.on('clientDisconnect', (client) => {
    const deviceId = deviceOf.get(client);
    if (!deviceId) return;
    const left = (connections.get(deviceId) ?? 1) - 1;
    if (left <= 0) {
      connections.delete(deviceId);
      limiter.forget(deviceId);
    }
    else connections.set(deviceId, left);
    connectedCount = Math.max(0, connectedCount - 1);
    hooks.onConnectionsChanged?.(connectedCount);
    if (left <= 0) {
      hooks.onStatus(deviceId, 'offline', Date.now(), 'connection closed');
      // Keep the retained status truthful for anyone who subscribes later.
      if (!aedes.closed) aedes.publish({ cmd: 'publish', topic: statusTopic(deviceId), payload: Buffer.from('offline'), qos: 1, retain: true, dup: false }, () => undefined);
    }
  });
  // Socket-level noise (resets, timeouts) is not the device's fault; anything else is a packet
  // the parser or a handler refused, and the connection is closed for it ([MQTT-4.8.0-1]).
  const socketNoise = /ECONNRESET|EPIPE|ETIMEDOUT|write after end|connection closed|keep ?alive timeout|connect timeout/i;
  const protocolError = (client: Client | null | undefined, err: Error) => {
    if (socketNoise.test(err.message) || (client && cutOff.has(client))) return;
    const deviceId = client ? (deviceOf.get(client) ?? null) : null;
    log.warn({ deviceId, remote: client ? remoteOf(client) : undefined, err: err.message }, 'malformed MQTT packet; connection closed');
    hooks.onProtocolError?.(deviceId, `malformed MQTT packet: ${err.message}`);
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

  const tcp: Server = createServer((socket: Socket) => {
    // Nagle's algorithm is where the p99 went (shared/PERFORMANCE.md).
    socket.setNoDelay(true);
    aedes.handle(socket);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

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
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        aedes.handle(stream, req);
      });
    },
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

function remoteOf(client: Client): string | undefined {
  const conn = client.conn as Partial<Socket>;
  return conn.remoteAddress;
}
