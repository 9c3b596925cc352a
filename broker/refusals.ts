// Why the broker refused a connection before it authenticated, and a count of those refusals per
// (minute, source address, reason): anyone can open a socket, so a refusal before login is never
// a row or a log line of its own (issue 11, finding 3). Pure: time is passed in.

/** Refusal labels. Reasons never carry what the client sent, so their number stays small. */
export const Refusal = {
  /** Unknown device, wrong or missing secret, no user name, a user name that is no device id. */
  badCredentials: 'bad credentials',
  clientIdMismatch: 'client id mismatch',
  lockedOut: 'locked out',
  authTimeout: 'authentication timeout',
  tooManyUnauthenticated: 'too many unauthenticated connections from this address',
  tooManyForDevice: 'too many connections for this device',
  authError: 'authentication error',
  /** The node is overloaded (broker/admission.ts): CONNACK 3, the device retries later. */
  overloaded: 'server overloaded',
  /** MQTT_MAX_DEVICES devices are connected: CONNACK 3, the device retries later. */
  atCapacity: 'node at capacity',
  /** CONNACK 1: a protocol level other than 3 or 4 (MQTT 5, say). Well-formed, just not spoken here. */
  unsupportedProtocol: 'unsupported protocol version (MQTT 3.1.1 and 3.1 only)',
  /** CONNACK 2 from aedes itself: under MQTT 3.1, a client id over the broker's 64 characters. */
  clientIdTooLong: 'client id too long',
  malformed: (detail: string) => `malformed packet: ${detail.slice(0, 120)}`,
} as const;

/**
 * What an error aedes or its parser raised for a connection that no hook had refused yet: named
 * for what it is. Only a packet the parser could not read is "malformed"; a CONNECT it read and
 * aedes answered with a CONNACK code is named by that code, so a wrong protocol version or a
 * refused login does not show up as a broken packet in the logs, metrics and `ingest_refusals`.
 */
export function protocolRefusal(message: string): string {
  if (/connect did not arrive in time/i.test(message)) return Refusal.authTimeout;
  if (/^unacceptable protocol version/i.test(message)) return Refusal.unsupportedProtocol; // CONNACK 1
  if (/^identifier rejected/i.test(message)) return Refusal.clientIdTooLong; // CONNACK 2
  // CONNACK 4 and 5: the authenticate hook records its refusals itself; these are a backstop.
  if (/^(bad user name or password|not authori[sz]ed)/i.test(message)) return Refusal.badCredentials;
  return Refusal.malformed(message);
}

/** A short, fixed name per kind of refusal: the `reason` label of the metric. */
export function refusalKind(reason: string): string {
  if (reason === Refusal.badCredentials) return 'bad_credentials';
  if (reason === Refusal.clientIdMismatch) return 'client_id_mismatch';
  if (reason === Refusal.lockedOut) return 'locked_out';
  if (reason === Refusal.authTimeout) return 'auth_timeout';
  if (reason === Refusal.tooManyUnauthenticated) return 'too_many_unauthenticated';
  if (reason === Refusal.tooManyForDevice) return 'too_many_for_device';
  if (reason === Refusal.overloaded) return 'overloaded';
  if (reason === Refusal.atCapacity) return 'at_capacity';
  if (reason === Refusal.unsupportedProtocol) return 'unsupported_protocol';
  if (reason === Refusal.clientIdTooLong) return 'client_id_too_long';
  if (reason.startsWith('packet too large')) return 'packet_too_large';
  if (reason.startsWith('too much data before authentication')) return 'preauth_bytes';
  if (reason.startsWith('malformed packet')) return 'malformed_packet';
  if (reason.startsWith('client certificate')) return 'client_certificate'; // broker/client-cert.ts
  return 'other';
}

export interface RefusalCount {
  /** Start of the minute (epoch ms). */
  minute: number;
  address: string;
  reason: string;
  count: number;
}

/** Refusals counted in memory between two drains; at most `maxKeys` distinct keys. */
export class RefusalCounter {
  private counts = new Map<string, RefusalCount>();

  constructor(private readonly maxKeys = 10_000) {}

  add(address: string, reason: string, now: number): void {
    const minute = now - (now % 60_000);
    let key = `${minute}\u0000${address}\u0000${reason}`;
    let c = this.counts.get(key);
    if (!c && this.counts.size >= this.maxKeys) {
      // Past the bound (a spray from very many addresses), the rest of the minute is counted as
      // coming from "(other)": the count stays right, the memory bounded.
      address = '(other)';
      key = `${minute}\u0000${address}\u0000${reason}`;
      c = this.counts.get(key);
    }
    if (c) c.count++;
    else this.counts.set(key, { minute, address, reason, count: 1 });
  }

  /** Everything counted since the last drain. */
  drain(): RefusalCount[] {
    const out = [...this.counts.values()];
    this.counts = new Map();
    return out;
  }

  get size(): number {
    return this.counts.size;
  }
}

/** Normalise a peer address: an IPv4 client on a dual-stack socket is its IPv4 address. */
export function sourceAddress(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
