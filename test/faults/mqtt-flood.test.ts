// Issue 11, finding 1: unauthenticated memory exhaustion. Raw TCP clients send a CONNECT whose
// fixed header declares 250 MB and stream its body as fast as they can, four sockets at a time,
// reconnecting whenever the server hangs up, for six seconds, twice. The server runs in its own process
// (bench/server-proc.ts) so its resident memory (VmRSS from /proc/<pid>/status) is measured alone:
// before, the broker buffered each body until the packet was complete (the penetration test saw
// 856 MB → 1.4 GB, kept after the sockets closed); now each socket is closed at its header, the
// server's memory stays near its baseline during the flood and after it, every attempt is counted,
// and a device still connects and publishes.
import { connect as tcpConnect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startChild, procSample, scrape, metric, type Child } from '../../bench/ingest-lib.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { connectDevice, publish } from '../helpers/stack.ts';
import { fixedHeader } from '../helpers/mqtt-bytes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => procSample(pid).rssMb;

/** One attacker socket: a CONNECT declaring 250 MB, then up to `maxBytes` of body. Resolves with what it sent. */
function oversizedConnect(port: number, maxBytes: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const s: Socket = tcpConnect({ port, host: '127.0.0.1' });
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const pump = () => {
      while (!s.destroyed && sent < maxBytes) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      if (sent >= maxBytes) s.end();
    };
    s.on('connect', () => {
      // A CONNECT declaring a Remaining Length of 250 MB (a 4-byte varint).
      s.write(fixedHeader(1, 250 * 1024 * 1024));
      pump();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(sent));
  });
}

describe('oversized-CONNECT flood', () => {
  let server: Child | null = null;
  let drop: (() => Promise<void>) | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-flood-'));
  afterAll(async () => {
    await server?.stop();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes each socket at its header; server memory stays near its baseline during and after the flood; a device still connects', async () => {
    const db = await createTestDatabase(inject('pgUrl'));
    drop = db.drop;
    server = startChild('./server-proc.ts', [], {
      ...process.env,
      HTTP_PORT: '0',
      MQTT_PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      ADMIN_PASSWORD: 'flood-admin-password-1',
      LOG_LEVEL: 'error',
      ALLOW_ANONYMOUS_DEVICES: 'true',
    });
    const { httpPort, mqttPort } = await server.next<{ httpPort: number; mqttPort: number }>('ready');
    const pid = server.pid;

    // Baseline: the started server, warmed by one device session, settled.
    const warm = await connectDevice(`mqtt://127.0.0.1:${mqttPort}`, 'flood-warm', undefined);
    await publish(warm, 'devices/flood-warm/vitals', { seq: 1, hr: 70 });
    warm.end(true);
    await sleep(2000);
    const baseline = Math.max(rssMb(pid), rssMb(pid));

    // The flood: four sockets at a time, each streaming up to 64 MB (256 MB in flight if buffered),
    // reconnecting as soon as the server hangs up. Run twice: memory must not grow flood after flood.
    let attempts = 0;
    let bytes = 0;
    let peak = baseline;
    const flood = async (ms: number) => {
      const until = Date.now() + ms;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssMb(pid));
        } catch {
          // the process ended: the assertions below say so
        }
      }, 100);
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < until) {
            attempts++;
            bytes += await oversizedConnect(mqttPort, 64 * 1024 * 1024);
          }
        }),
      );
      clearInterval(sampler);
      await sleep(3000);
      return Math.min(rssMb(pid), rssMb(pid));
    };
    const after1 = await flood(6000);
    const peak1 = peak;
    const after2 = await flood(6000);
    console.log(`[flood] ${attempts} oversized CONNECTs, ${Math.round(bytes / 1048576)} MB written by the clients; server RSS baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after the first flood ${after1.toFixed(0)} MB, after the second ${after2.toFixed(0)} MB`);

    // Each socket was closed long before it could send its 64 MB (what it wrote is mostly the
    // kernel's socket buffers; the server reads one chunk of it).
    expect(attempts).toBeGreaterThanOrEqual(100);
    expect(bytes / attempts).toBeLessThan(4 * 1024 * 1024);
    // Memory: bounded during the flood; near the baseline after it, and not growing flood after
    // flood. (Before the guard, the same flood held four sockets of 64 MB: +235 MB at its peak and
    // +200 MB after the sockets closed, even after a forced garbage collection. What remains now
    // is read buffers awaiting collection and the allocator's high-water mark.)
    expect(peak - baseline).toBeLessThan(128);
    expect(after1 - baseline).toBeLessThan(96);
    // Not growing: the second flood ends (and peaks) within a margin of the first flood's peak.
    // (Not after2 − after1: a sample taken just after a collection made that step read +36 MB
    // once with no growth at all — 228 → 264 MB against a first peak of 274 MB.)
    expect(after2 - peak1).toBeLessThan(24);
    expect(peak - peak1).toBeLessThan(24);
    // Every attempt counted, by kind (not a row or a log line each).
    const m = await scrape(`http://127.0.0.1:${httpPort}/metrics`);
    expect(metric(m, 'wardpulse_mqtt_connections_refused_total{reason="packet_too_large"}')).toBe(attempts);
    expect(metric(m, 'wardpulse_mqtt_unauthenticated_connections')).toBe(0);
    // The broker still serves devices.
    const d = await connectDevice(`mqtt://127.0.0.1:${mqttPort}`, 'flood-after', undefined);
    await publish(d, 'devices/flood-after/vitals', { seq: 1, hr: 71 });
    d.end(true);
  }, 120_000);
});
