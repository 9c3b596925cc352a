// In-memory view of the provisioned devices, loaded at start and kept in step by the REST layer:
// the broker authenticates from it and the ingress resolves a device's patient from it without
// a database round trip per message.
import { createHash } from 'node:crypto';
import { hashDeviceSecret, verifyDeviceSecret } from './device-secrets.ts';
import { AuthFailures, type AuthFailureOptions, type Lockout } from './auth-failures.ts';

// Unknown ids are checked against this, so a refusal takes as long whether the id exists or not.
const DUMMY_HASH = hashDeviceSecret('wardpulse-unknown-device');
/** Secret checks running at once (scrypt of older device hashes uses libuv's 4 threads); the rest wait their turn. */
const VERIFY_CONCURRENCY = 4;

export const DEFAULT_AUTH_FAILURES: AuthFailureOptions = { maxFailures: 10, lockoutMs: 60_000, maxLockoutMs: 3600_000 };

export type AuthResult =
  | { ok: true }
  /** `lockout`: this failure started a lock of the (device, address) pair. */
  | { ok: false; reason: 'bad credentials' | 'locked out' | 'gone'; lockout?: Lockout };

export interface DeviceEntry {
  id: string;
  secretHash: string;
  patientId: string | null;
}

export interface DeviceStats {
  connected: boolean;
  readings: number;
  refused: number;
  lastSeenAt: number | null;
  lastSeq: number | null;
  seqGaps: number;
}

export class DeviceRegistry {
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly listeners = new Set<(deviceId: string) => void>();
  private readonly stats = new Map<string, DeviceStats>();
  /** sha256 of the last secret that passed scrypt, per device: reconnects skip the slow hash. */
  private readonly verified = new Map<string, string>();
  /** Failed attempts per (device id, source address): past the limit, refused without a hash. */
  private readonly failures: AuthFailures;
  private verifying = 0;
  private readonly waiting: (() => void)[] = [];
  /**
   * Where a device unknown here is looked up before its secret is judged (a cluster: a device
   * provisioned through another node a moment ago may not have reached this node yet).
   */
  private lookup: ((id: string) => Promise<DeviceEntry | null>) | null = null;

  constructor(failures: AuthFailureOptions = DEFAULT_AUTH_FAILURES) {
    this.failures = new AuthFailures(failures);
  }

  /** Look devices unknown here up with `lookup` (their rows in the shared database) before refusing them. */
  lookUpMisses(lookup: (id: string) => Promise<DeviceEntry | null>): void {
    this.lookup = lookup;
  }

  load(entries: Iterable<DeviceEntry>): void {
    this.devices.clear();
    this.verified.clear();
    for (const e of entries) this.devices.set(e.id, { ...e });
  }

  upsert(entry: DeviceEntry): void {
    const prev = this.devices.get(entry.id);
    if (prev && prev.secretHash !== entry.secretHash) this.verified.delete(entry.id);
    this.devices.set(entry.id, { ...entry });
    for (const l of this.listeners) l(entry.id);
  }

  /** Be told of every upsert, by device id (a cluster node tells the others); returns the unsubscribe. */
  onUpsert(listener: (deviceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get(id: string): DeviceEntry | undefined {
    return this.devices.get(id);
  }

  patientOf(id: string): string | null {
    return this.devices.get(id)?.patientId ?? null;
  }

  devicesOfPatient(patientId: string): string[] {
    const out: string[] = [];
    for (const d of this.devices.values()) if (d.patientId === patientId) out.push(d.id);
    return out;
  }

  /**
   * Check a device's secret, as seen from `address`. `alive` is asked again when a scrypt slot
   * frees up: a connection that has gone meanwhile (closed, timed out) costs no hash.
   */
  async authenticate(id: string, secret: string, address: string, alive: () => boolean = () => true, now = Date.now): Promise<AuthResult> {
    let entry = this.devices.get(id);
    const fingerprint = createHash('sha256').update(secret).digest('base64');
    if (entry && this.verified.get(id) === fingerprint) {
      this.failures.succeed(id, address);
      return { ok: true };
    }
    if (this.failures.lockedUntil(id, address, now()) !== null) return { ok: false, reason: 'locked out' };
    // A slot is handed from one check to the next waiting one, never over the bound.
    if (this.verifying >= VERIFY_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.verifying++;
    try {
      if (!alive()) return { ok: false, reason: 'gone' };
      // Locked while this attempt waited for its turn (parallel attempts from the same address).
      if (this.failures.lockedUntil(id, address, now()) !== null) return { ok: false, reason: 'locked out' };
      if (!entry && this.lookup) {
        const found = await this.lookup(id).catch(() => null);
        if (found && !this.devices.has(id)) this.devices.set(id, { ...found });
        entry = this.devices.get(id);
      }
      const ok = await verifyDeviceSecret(secret, entry?.secretHash ?? DUMMY_HASH);
      if (ok && entry && this.devices.get(id)?.secretHash === entry.secretHash) {
        this.verified.set(id, fingerprint);
        this.failures.succeed(id, address);
        return { ok: true };
      }
      const lockout = this.failures.fail(id, address, now());
      return lockout ? { ok: false, reason: 'bad credentials', lockout } : { ok: false, reason: 'bad credentials' };
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.verifying--;
    }
  }

  statsOf(id: string): DeviceStats {
    let s = this.stats.get(id);
    if (!s) {
      s = { connected: false, readings: 0, refused: 0, lastSeenAt: null, lastSeq: null, seqGaps: 0 };
      this.stats.set(id, s);
    }
    return s;
  }
}
