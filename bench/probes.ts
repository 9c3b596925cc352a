// Probe beds and a dashboard watcher, shared by bench/ingest.ts and bench/soak.ts: a few
// provisioned patients in one ward whose readings reach a Socket.IO dashboard, spread through a
// fleet of anonymous devices that load the broker, pipeline and database the same way.
import { io as ioClient, type Socket } from 'socket.io-client';
import { anonymousDevices, type FleetDevice } from '../simulator/fleet.ts';
import { provisionFleet } from '../simulator/provision.ts';

/** Latencies (receive time − reading ts, same clock) recorded only while `recording`. */
export class Watcher {
  recording = false;
  received = 0;
  samples: number[] = [];
  seen(ts: number, now = Date.now()) {
    this.received++;
    if (this.recording) this.samples.push(now - ts);
  }
  /** The samples so far, leaving an empty list for the next window. */
  take(): number[] {
    const s = this.samples;
    this.samples = [];
    return s;
  }
}

export interface Admin {
  email: string;
  password: string;
}

/**
 * `beds` devices of which `probes` are provisioned patients in `ward` (devices with secrets), the
 * rest anonymous. Probes are spaced evenly through the fleet: a device's index sets its phase within
 * the second, so probes bunched at the front would all publish at the same point of the server's tick.
 */
export async function probeFleet(base: string, admin: Admin, ward: string, beds: number, probes: number): Promise<FleetDevice[]> {
  const n = Math.min(probes, beds);
  const file = await provisionFleet({ baseUrl: base, email: admin.email, password: admin.password, ward, beds: n, seed: 7 });
  const devices: FleetDevice[] = anonymousDevices(beds - n);
  file.devices.forEach((d, i) => devices.splice(Math.floor((i * beds) / n), 0, { deviceId: d.deviceId, secret: d.secret }));
  return devices;
}

/** A dashboard logged in as `admin`, subscribed to `ward`, feeding every live value to `watcher`. */
export async function watchWard(base: string, admin: Admin, ward: string, watcher: Watcher): Promise<Socket> {
  const login = (await (
    await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) })
  ).json()) as { token: string };
  const socket = ioClient(base, { transports: ['websocket'], auth: { token: login.token } });
  socket.on('vitals', (batch: { ts: number }[]) => {
    const now = Date.now();
    for (const v of batch) watcher.seen(v.ts, now);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  await new Promise<void>((resolve, reject) =>
    socket.emit('subscribe', { ward }, (res: { ok: boolean; error?: { message: string } }) => (res.ok ? resolve() : reject(new Error(res.error?.message)))),
  );
  return socket;
}
