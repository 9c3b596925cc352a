// MQTT over TLS (MQTT 3.1.1 §5.1; 8883 is IANA's port for it). Every socket that completes the
// handshake goes to the broker's one entry point (`Broker.acceptSocket`): the same per-address
// admission, packet guard and authentication deadline as plain TCP and WebSocket. Before that, the
// handshake has its own deadline and its own per-address bound, so the TLS listener is no way
// around them.
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { sourceAddress } from './refusals.ts';

export interface MqttsOptions {
  /** The broker's per-socket entry point (Broker.acceptSocket). */
  accept(socket: TLSSocket): void;
  /** The server's certificate chain and private key (PEM). */
  cert: Buffer;
  key: Buffer;
  /** TLS_CLIENT_CA_FILE: devices are asked for a certificate signed by one of these CAs. */
  clientCa: Buffer | null;
  /** TLS_CLIENT_CERT_REQUIRED: a device without a certificate that verifies fails the handshake. */
  clientCertRequired: boolean;
  /** From TCP accept to a finished handshake. */
  handshakeTimeoutMs: number;
  /** Handshakes in progress per source address (a slow-handshake flood is bounded like a slow CONNECT). */
  maxHandshakingPerAddress: number;
  /** A connection dropped before it reached the broker (`reason` is a fixed label). */
  onRefused?(address: string, reason: string): void;
}

export const TlsRefusal = {
  handshake: 'tls handshake failed',
  tooManyHandshaking: 'too many tls handshakes from this address',
} as const;

export interface MqttsListener {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

export function createMqttsListener(opts: MqttsOptions): MqttsListener {
  /** Raw sockets still in their handshake, by `address|port`, and their count per address. */
  const handshaking = new Map<string, Socket>();
  const perAddress = new Map<string, number>();
  const leave = (key: string, address: string) => {
    if (!handshaking.delete(key)) return;
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left <= 0) perAddress.delete(address);
    else perAddress.set(address, left);
  };

  const server: Server = createServer(
    {
      cert: opts.cert,
      key: opts.key,
      // TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1); Node's default cipher list.
      minVersion: 'TLSv1.2',
      handshakeTimeout: opts.handshakeTimeoutMs,
      ...(opts.clientCa
        ? {
            ca: opts.clientCa,
            requestCert: true,
            // Not required: a device without a certificate may still use its secret, and one with
            // a certificate that does not verify is refused at CONNECT with a counted reason
            // (broker/client-cert.ts). Required: neither gets past the handshake.
            rejectUnauthorized: opts.clientCertRequired,
          }
        : {}),
    },
    (socket) => {
      leave(`${sourceAddress(socket.remoteAddress)}|${socket.remotePort}`, sourceAddress(socket.remoteAddress));
      opts.accept(socket);
    },
  );

  server.on('connection', (raw: Socket) => {
    const address = sourceAddress(raw.remoteAddress);
    const here = perAddress.get(address) ?? 0;
    if (here >= opts.maxHandshakingPerAddress) {
      opts.onRefused?.(address, TlsRefusal.tooManyHandshaking);
      raw.destroy();
      return;
    }
    const key = `${address}|${raw.remotePort}`;
    perAddress.set(address, here + 1);
    handshaking.set(key, raw);
    raw.once('close', () => leave(key, address));
  });
  // Not TLS, a protocol version or cipher refused, no certificate where one is required, a
  // certificate that does not verify, the handshake deadline. With a listener here, closing the
  // socket is ours to do: Node does not close it after ERR_TLS_HANDSHAKE_TIMEOUT (https.Server's
  // own listener does; a bare tls.Server's socket would otherwise stay open past the deadline).
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
    const address = socket.remoteAddress;
    socket.destroy();
    // A client that left on its own, or one dropped above (no address any more), is not counted again.
    if (err.code === 'ECONNRESET' || address === undefined) return;
    opts.onRefused?.(sourceAddress(address), TlsRefusal.handshake);
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as { port: number }).port);
        });
      });
    },
    close() {
      // Stop accepting; sockets in their handshake are dropped, the broker closes the others.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const raw of handshaking.values()) raw.destroy();
      return closed;
    },
  };
}
