// In-memory view of the provisioned devices, loaded at start and kept in step by the REST layer:
// the broker authenticates from it and the ingress resolves a device's patient from it without
// a database round trip per message.
import { createHash } from 'node:crypto';
import { hashSecret, verifySecret } from '../server/auth/passwords.ts';

// Unknown ids are checked against this, so a refusal takes as long whether the id exists or not.
const DUMMY_HASH = hashSecret('wardpulse-unknown-device');
const MAX_FAILURES = 10;
const FAILURE_WINDOW_MS = 60_000;

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
  private readonly stats = new Map<string, DeviceStats>();
  /** sha256 of the last secret that passed scrypt, per device: reconnects skip the slow hash. */
  private readonly verified = new Map<string, string>();
  /** Failed attempts per device id: past the limit, refused without spending a hash. */
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  load(entries: Iterable<DeviceEntry>): void {
    this.devices.clear();
    this.verified.clear();
    for (const e of entries) this.devices.set(e.id, { ...e });
  }

  upsert(entry: DeviceEntry): void {
    const prev = this.devices.get(entry.id);
    if (prev && prev.secretHash !== entry.secretHash) this.verified.delete(entry.id);
    this.devices.set(entry.id, { ...entry });
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

  async authenticate(id: string, secret: string, now = Date.now()): Promise<boolean> {
    const entry = this.devices.get(id);
    const fingerprint = createHash('sha256').update(secret).digest('base64');
    if (entry && this.verified.get(id) === fingerprint) return true;
    const f = this.failures.get(id);
    if (f && f.resetAt > now && f.count >= MAX_FAILURES) return false;
    const ok = await verifySecret(secret, entry?.secretHash ?? (await DUMMY_HASH));
    if (ok && entry && this.devices.get(id)?.secretHash === entry.secretHash) {
      this.verified.set(id, fingerprint);
      this.failures.delete(id);
      return true;
    }
    if (!f || f.resetAt <= now) this.failures.set(id, { count: 1, resetAt: now + FAILURE_WINDOW_MS });
    else f.count++;
    if (this.failures.size > 100_000) this.failures.clear(); // bounded under a spray of ids
    return false;
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
