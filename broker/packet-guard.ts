// Caps every MQTT packet by its fixed header before the broker library buffers its body. aedes
// 1.2 and mqtt-packet 9 have no maximum packet size: the parser keeps appending bytes until the
// declared Remaining Length (up to 256 MB, MQTT 3.1.1 §2.2.3) has arrived, authenticated or not.
// This guard reads only the fixed header of each packet — the type (high nibble of byte 1) and the
// Remaining Length varint (1–4 bytes) — and skips over the body arithmetically, so its cost per
// packet is a few comparisons whatever the packet's size. Pure: the caller feeds it the chunks the
// broker reads and closes the connection when it returns a refusal.

/** MQTT control packet types (MQTT 3.1.1 §2.2.1, Table 2.1). */
export const PACKET_NAMES = [
  'reserved', 'CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP',
  'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'reserved',
] as const;
const CONNECT = 1;
const PUBLISH = 3;

export interface PacketLimits {
  /** Largest Remaining Length of a PUBLISH (payload + topic + packet id). */
  maxPublish: number;
  /** Largest Remaining Length of any other packet (CONNECT, SUBSCRIBE, …). */
  maxOther: number;
  /** Bytes a connection may send before it has authenticated (CONNECT and anything pipelined). */
  maxPreAuthBytes: number;
}

/** The largest telemetry payload a device may send (docs/device-protocol.md §4). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/**
 * PUBLISH: the 64 KiB payload, its topic (2-byte length + `devices/{id ≤ 64}/vitals`, 256 allowed)
 * and the packet id (2 bytes). A payload a little over 64 KiB still reaches the decoder, which
 * refuses it with its precise reason and keeps the connection.
 */
export const MAX_PUBLISH_REMAINING = MAX_PAYLOAD_BYTES + 2 + 256 + 2;
/**
 * CONNECT and every other packet: a CONNECT carries a client id (≤ 64 + ':' + suffix), a user name
 * (≤ 64), a password (32) and a short will (`devices/{id}/status`, `offline`): well under 1 KiB.
 * SUBSCRIBE/UNSUBSCRIBE of a few topics are as small.
 */
export const MAX_OTHER_REMAINING = 4096;

export const DEFAULT_PACKET_LIMITS: PacketLimits = {
  maxPublish: MAX_PUBLISH_REMAINING,
  maxOther: MAX_OTHER_REMAINING,
  maxPreAuthBytes: 8192,
};

export class PacketGuard {
  /** Set by the broker once the connection has authenticated: the pre-authentication cap ends. */
  authenticated = false;
  private preAuthBytes = 0;
  /** Body bytes of the current packet still to come. */
  private skip = 0;
  /** Type of the packet whose Remaining Length is being read; -1 at a packet boundary. */
  private type = -1;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private packets = 0;

  constructor(private readonly limits: PacketLimits = DEFAULT_PACKET_LIMITS) {}

  /** Inspect the next chunk read from the connection; a refusal reason, or null to go on. */
  feed(chunk: Uint8Array): string | null {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, n - i);
        this.skip -= k;
        i += k;
        continue;
      }
      const b = chunk[i++]!;
      if (this.type < 0) {
        this.type = b >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        // [MQTT-3.1.0-1] the first packet from the client must be CONNECT: refuse anything else
        // before reading its body.
        if (this.packets === 0 && this.type !== CONNECT) return `malformed packet: the first packet must be CONNECT, got ${PACKET_NAMES[this.type]}`;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      // The value read so far is a lower bound of the whole: refuse as soon as it is over.
      const cap = this.type === PUBLISH ? this.limits.maxPublish : this.limits.maxOther;
      if (this.length > cap) return `packet too large: ${PACKET_NAMES[this.type]} over ${cap} bytes`;
      if (b & 0x80) {
        // [MQTT-2.2.3] the Remaining Length is at most four bytes.
        if (this.lengthBytes === 4) return 'malformed packet: remaining length longer than 4 bytes';
        continue;
      }
      this.skip = this.length;
      this.type = -1;
      this.packets++;
    }
    // After the headers, whose refusal says more: the chunk is already read, nothing more is kept.
    if (!this.authenticated) {
      this.preAuthBytes += n;
      if (this.preAuthBytes > this.limits.maxPreAuthBytes) return `too much data before authentication (over ${this.limits.maxPreAuthBytes} bytes)`;
    }
    return null;
  }
}
