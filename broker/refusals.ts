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
  malformed: (detail: string) => `malformed packet: ${detail.slice(0, 120)}`,
} as const;

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
