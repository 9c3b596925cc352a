// In-memory view of the provisioned devices, loaded at start and kept in step by the REST layer:
// the broker authenticates from it and the ingress resolves a device's patient from it without
// a database round trip per message.
import { createHash } from 'node:crypto';
import { verifySecret } from '../server/auth/passwords.ts';

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

  async authenticate(id: string, secret: string): Promise<boolean> {
    const entry = this.devices.get(id);
    if (!entry) return false;
    const fingerprint = createHash('sha256').update(secret).digest('base64');
    if (this.verified.get(id) === fingerprint) return true;
    const ok = await verifySecret(secret, entry.secretHash);
    if (ok && this.devices.get(id)?.secretHash === entry.secretHash) this.verified.set(id, fingerprint);
    return ok;
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
