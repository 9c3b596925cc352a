// Monitored beds for the benches: every bed a patient in a ward of 32 with its own device and
// secret, provisioned through the REST API (as a hospital would), and a bank of wall displays —
// Socket.IO clients, one per 16 wards — that measure publish → dashboard for every bed.
// Shared by bench/ingest.ts and bench/soak.ts. No anonymous devices: a device without a patient
// skips scoring, alarms and the live push, so it says nothing about beds (bench/README.md).
import { io as ioClient, type Socket } from 'socket.io-client';
import type { FleetDevice } from '../simulator/fleet.ts';
import { patientNames } from '../simulator/names.ts';
import { createRng } from '../simulator/rng.ts';

export const WARD_SIZE = 32;
export const WARDS_PER_DISPLAY = 16;

export interface Bed {
  index: number;
  ward: string;
  bed: string;
  patientId: string;
  deviceId: string;
  secret: string;
}

export interface Admin {
  email: string;
  password: string;
}

/** Bed i is in ward W001 for i < 32, W002 for the next 32, … */
export const wardOf = (index: number) => `W${String(Math.floor(index / WARD_SIZE) + 1).padStart(3, '0')}`;

export async function login(base: string, admin: Admin): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
  if (!res.ok) throw new Error(`login → ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * Provision beds `have.length … total − 1` (patient, then a device assigned to it) and return the
 * whole list. Requests run `concurrency` at a time; beds already provisioned are kept, so a run
 * that steps up provisions only the difference.
 */
export async function provisionBeds(base: string, admin: Admin, have: readonly Bed[], total: number, concurrency = 8): Promise<Bed[]> {
  const beds = [...have];
  if (beds.length >= total) return beds;
  const token = await login(base, admin);
  const call = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`POST ${path} → ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const names = patientNames(total, createRng(11));
  let next = beds.length;
  const t0 = Date.now();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const ward = wardOf(i);
      const bed = `${ward}-${String((i % WARD_SIZE) + 1).padStart(2, '0')}`;
      const patient = await call<{ id: string }>('/api/patients', { name: names[i] ?? `Patient ${bed}`, ward, bed });
      const device = await call<{ id: string; secret: string }>('/api/devices', { label: `bench ${bed}`, patientId: patient.id });
      beds[i] = { index: i, ward, bed, patientId: patient.id, deviceId: device.id, secret: device.secret };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(`  provisioned ${total - have.length} beds (${have.length} → ${total}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return beds;
}

/**
 * The devices of the first `count` beds, in publish order: the fleet spreads its devices over the
 * second by position, so beds are dealt ward by ward (bed 1 of every ward, then bed 2, …) and no
 * ward's readings arrive bunched in one slice of the second.
 */
export function fleetOf(beds: readonly Bed[], count: number): FleetDevice[] {
  const chosen = beds.slice(0, count);
  const order = [...chosen].sort((a, b) => (a.index % WARD_SIZE) - (b.index % WARD_SIZE) || a.index - b.index);
  return order.map((b) => ({ deviceId: b.deviceId, secret: b.secret, bed: b.bed, patientId: b.patientId }));
}

/** The baselines' watcher: latencies (receive time − reading ts, same clock) recorded only while `recording`. */
export class Watcher {
  recording = false;
  received = 0;
  samples: number[] = [];
  seen(ts: number, now = Date.now()) {
    this.received++;
    if (this.recording) this.samples.push(now - ts);
  }
  all(): number[] {
    return this.samples;
  }
  /** The samples so far, leaving an empty list for the next window. */
  take(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }
}

/** Latencies per ward (receive time − reading ts, same clock), recorded only while `recording`. */
export class WallDisplays {
  recording = false;
  /** `vitals` entries received over the whole run (each is one bed's update of one tick). */
  received = 0;
  alerts = 0;
  scores = 0;
  readonly perWard = new Map<string, number[]>();
  private readonly sockets: Socket[] = [];

  private constructor(private readonly wardOfPatient: ReadonlyMap<string, string>) {}

  /** One client per WARDS_PER_DISPLAY wards, each subscribed to its wards; resolves once all are. */
  static async open(base: string, admin: Admin, beds: readonly Bed[]): Promise<WallDisplays> {
    const displays = new WallDisplays(new Map(beds.map((b) => [b.patientId, b.ward])));
    const wards = [...new Set(beds.map((b) => b.ward))];
    const token = await login(base, admin);
    for (let i = 0; i < wards.length; i += WARDS_PER_DISPLAY) {
      const mine = wards.slice(i, i + WARDS_PER_DISPLAY);
      const socket = ioClient(base, { transports: ['websocket'], auth: { token } });
      displays.sockets.push(socket);
      socket.on('vitals', (batch: { patientId: string; ts: number }[]) => displays.seen(batch));
      socket.on('alert', () => displays.alerts++);
      socket.on('score', () => displays.scores++);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      for (const ward of mine) {
        await new Promise<void>((resolve, reject) =>
          socket.emit('subscribe', { ward }, (res: { ok: boolean; error?: { message: string } }) => (res.ok ? resolve() : reject(new Error(`subscribe ${ward}: ${res.error?.message}`)))),
        );
      }
    }
    return displays;
  }

  private seen(batch: { patientId: string; ts: number }[]) {
    const now = Date.now();
    this.received += batch.length;
    if (!this.recording) return;
    for (const v of batch) {
      const ward = this.wardOfPatient.get(v.patientId) ?? '?';
      let list = this.perWard.get(ward);
      if (!list) this.perWard.set(ward, (list = []));
      list.push(now - v.ts);
    }
  }

  /** Every sample, all wards together. */
  all(): number[] {
    return [...this.perWard.values()].flat();
  }

  /** Samples since the last call (for per-interval figures), leaving the lists empty. */
  take(): number[] {
    const out = this.all();
    this.perWard.clear();
    return out;
  }

  get clients() {
    return this.sockets.length;
  }

  close() {
    for (const s of this.sockets) s.close();
  }
}
