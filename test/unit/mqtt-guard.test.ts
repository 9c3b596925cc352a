// The MQTT packet guard (fixed header only, MQTT 3.1.1 §2.2), the (device, address) lockout with
// exponential backoff, the per-minute refusal counter — pure, fed bytes and times — and the
// recorder that writes the counts and logs one summary per flush.
import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { MAX_PUBLISH_REMAINING, PacketGuard } from '../../broker/packet-guard.ts';
import { AuthFailures } from '../../broker/auth-failures.ts';
import { RefusalCounter, refusalKind, sourceAddress, Refusal } from '../../broker/refusals.ts';
import { createRefusalRecorder } from '../../server/mqtt-refusals.ts';
import { createLogger } from '../../server/logger.ts';
import { createMetrics } from '../../server/metrics.ts';
import { fixedHeader } from '../helpers/mqtt-bytes.ts';

const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'bed-1', keepalive: 30, username: 'bed-1', password: Buffer.from('x'.repeat(32)) });
const publish = (bytes: number) => mqttPacket.generate({ cmd: 'publish', topic: 'devices/bed-1/vitals', payload: Buffer.alloc(bytes, 0x61), qos: 1, messageId: 1, retain: false, dup: false });
const header = fixedHeader;
const bytewise = (g: PacketGuard, buf: Buffer) => {
  for (let i = 0; i < buf.length; i++) {
    const r = g.feed(buf.subarray(i, i + 1));
    if (r) return r;
  }
  return null;
};

describe('PacketGuard', () => {
  it('refuses a CONNECT declaring 250 MB from its header alone, before any body byte', () => {
    const g = new PacketGuard();
    expect(g.feed(header(1, 250 * 1024 * 1024))).toBe('packet too large: CONNECT over 4096 bytes');
    // Even one byte at a time: refused once the partial length is over the cap (3rd length byte).
    expect(bytewise(new PacketGuard(), header(1, 250 * 1024 * 1024))).toMatch(/packet too large: CONNECT/);
  });

  it('lets a real CONNECT and 64 KiB PUBLISHes through, split anywhere or joined', () => {
    const g = new PacketGuard();
    expect(g.feed(connect)).toBeNull();
    g.authenticated = true;
    const stream = Buffer.concat([publish(64 * 1024), publish(10), Buffer.from([0xc0, 0x00]), publish(100)]);
    // Joined in one chunk, then split at every size from 1 to 7 bytes (WebSocket frames and TCP
    // segments cut packets anywhere): the guard keeps its place across chunks.
    expect(g.feed(stream)).toBeNull();
    const refusals: string[] = [];
    for (let step = 1; step <= 7; step++) {
      for (let i = 0; i < stream.length; i += step) {
        const r = g.feed(stream.subarray(i, i + step));
        if (r) refusals.push(r);
      }
    }
    expect(refusals).toEqual([]);
    // Still in step: a header right after all that is read as a header.
    expect(g.feed(header(3, MAX_PUBLISH_REMAINING + 1))).toMatch(/packet too large: PUBLISH/);
  });

  it('refuses a PUBLISH over 64 KiB + topic after authentication, and any other packet over 4 KiB', () => {
    const g = new PacketGuard();
    g.feed(connect);
    g.authenticated = true;
    expect(g.feed(publish(100))).toBeNull();
    expect(g.feed(header(3, MAX_PUBLISH_REMAINING))).toBeNull();
    const g2 = new PacketGuard();
    g2.feed(connect);
    g2.authenticated = true;
    expect(g2.feed(header(3, MAX_PUBLISH_REMAINING + 1))).toBe(`packet too large: PUBLISH over ${MAX_PUBLISH_REMAINING} bytes`);
    const g3 = new PacketGuard();
    g3.feed(connect);
    g3.authenticated = true;
    expect(g3.feed(header(8, 5000))).toBe('packet too large: SUBSCRIBE over 4096 bytes');
  });

  it('refuses anything but CONNECT first ([MQTT-3.1.0-1]) and a 5-byte remaining length', () => {
    expect(new PacketGuard().feed(header(3, 10))).toBe('malformed packet: the first packet must be CONNECT, got PUBLISH');
    expect(new PacketGuard().feed(Buffer.from([0x00, 0x00]))).toBe('malformed packet: the first packet must be CONNECT, got reserved');
    const g = new PacketGuard({ maxPublish: 2 ** 40, maxOther: 2 ** 40, maxPreAuthBytes: 100 });
    expect(g.feed(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe('malformed packet: remaining length longer than 4 bytes');
  });

  it('caps the bytes before authentication, and not after', () => {
    const g = new PacketGuard({ maxPublish: MAX_PUBLISH_REMAINING, maxOther: 4096, maxPreAuthBytes: 8192 });
    expect(g.feed(connect)).toBeNull();
    // A pipelined PUBLISH of 10 KiB before CONNACK: over the pre-authentication allowance.
    expect(g.feed(publish(10 * 1024))).toBe('too much data before authentication (over 8192 bytes)');
    const h = new PacketGuard({ maxPublish: MAX_PUBLISH_REMAINING, maxOther: 4096, maxPreAuthBytes: 8192 });
    h.feed(connect);
    h.authenticated = true;
    for (let i = 0; i < 100; i++) expect(h.feed(publish(10 * 1024))).toBeNull();
  });
});

describe('AuthFailures (per device and source address)', () => {
  const opts = { maxFailures: 10, lockoutMs: 60_000, maxLockoutMs: 3600_000 };

  it('locks the pair after 10 failures, not the device from another address', () => {
    const f = new AuthFailures(opts);
    for (let i = 0; i < 9; i++) expect(f.fail('bed-1', '10.0.0.66', 1000 + i)).toBeNull();
    expect(f.lockedUntil('bed-1', '10.0.0.66', 2000)).toBeNull();
    expect(f.fail('bed-1', '10.0.0.66', 2000)).toEqual({ failures: 10, lockouts: 1, lockedForMs: 60_000, until: 62_000 });
    expect(f.lockedUntil('bed-1', '10.0.0.66', 3000)).toBe(62_000);
    expect(f.lockedUntil('bed-1', '10.0.0.7', 3000)).toBeNull();
    expect(f.lockedUntil('bed-2', '10.0.0.66', 3000)).toBeNull();
  });

  it('backs off exponentially: after a lock, each further failure locks twice as long, up to the longest', () => {
    const f = new AuthFailures(opts);
    let t = 0;
    for (let i = 0; i < 10; i++) f.fail('d', 'a', t);
    const lengths: number[] = [];
    for (let k = 0; k < 8; k++) {
      t = f.lockedUntil('d', 'a', t)!; // wait out the lock, then one more wrong secret
      lengths.push(f.fail('d', 'a', t)!.lockedForMs);
    }
    expect(lengths).toEqual([120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000]);
  });

  it('forgets the pair on success, and after a quiet spell as long as the longest lock', () => {
    const f = new AuthFailures(opts);
    for (let i = 0; i < 10; i++) f.fail('d', 'a', 0);
    f.succeed('d', 'a');
    expect(f.lockedUntil('d', 'a', 1)).toBeNull();
    for (let i = 0; i < 10; i++) f.fail('d', 'a', 0);
    expect(f.fail('d', 'a', 60_000 + 3600_001)).toBeNull(); // a fresh start: 1 failure
  });

  it('stays bounded under a spray of pairs, forgetting the oldest', () => {
    const f = new AuthFailures({ ...opts, maxEntries: 1000 });
    for (let i = 0; i < 5000; i++) f.fail(`dev-${i}`, '10.0.0.66', i);
    expect(f.size).toBe(1000);
  });
});

describe('RefusalCounter', () => {
  it('counts per minute, address and reason; drains once', () => {
    const c = new RefusalCounter();
    for (let i = 0; i < 200; i++) c.add('10.0.0.66', Refusal.badCredentials, 120_000 + i * 100);
    c.add('10.0.0.66', Refusal.lockedOut, 130_000);
    c.add('10.0.0.66', Refusal.badCredentials, 180_000);
    expect(c.drain()).toEqual([
      { minute: 120_000, address: '10.0.0.66', reason: 'bad credentials', count: 200 },
      { minute: 120_000, address: '10.0.0.66', reason: 'locked out', count: 1 },
      { minute: 180_000, address: '10.0.0.66', reason: 'bad credentials', count: 1 },
    ]);
    expect(c.drain()).toEqual([]);
  });

  it('counts the addresses past its bound as "(other)", keeping the total', () => {
    const c = new RefusalCounter(100);
    for (let i = 0; i < 1000; i++) c.add(`10.0.${i >> 8}.${i & 255}`, Refusal.authTimeout, 0);
    const rows = c.drain();
    expect(rows.length).toBe(101);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(1000);
    expect(rows.find((r) => r.address === '(other)')!.count).toBe(900);
  });

  it('names each kind for the metric and normalises IPv4-mapped addresses', () => {
    expect(refusalKind('packet too large: CONNECT over 4096 bytes')).toBe('packet_too_large');
    expect(refusalKind(Refusal.malformed('Invalid protocolId'))).toBe('malformed_packet');
    expect(refusalKind(Refusal.tooManyUnauthenticated)).toBe('too_many_unauthenticated');
    expect(sourceAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(sourceAddress('2001:db8::1')).toBe('2001:db8::1');
    expect(sourceAddress(undefined)).toBe('unknown');
  });
});

describe('refusal recorder (server/mqtt-refusals.ts)', () => {
  it('writes counts and one summary log line per flush, never a line per attempt', async () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(l) });
    const metrics = createMetrics();
    const written: unknown[][] = [];
    const rec = createRefusalRecorder({ write: (rows) => written.push(rows), log, metrics, everyMs: 3600_000, now: () => 60_000 });
    for (let i = 0; i < 200; i++) rec.record('10.0.0.66', Refusal.badCredentials);
    rec.record('10.0.0.67', 'packet too large: CONNECT over 4096 bytes');
    expect(lines).toEqual([]);
    rec.flush();
    rec.flush(); // nothing new: nothing written, nothing logged
    rec.close();
    expect(written).toEqual([[
      { minute: 60_000, address: '10.0.0.66', reason: 'bad credentials', count: 200 },
      { minute: 60_000, address: '10.0.0.67', reason: 'packet too large: CONNECT over 4096 bytes', count: 1 },
    ]]);
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, event: 'mqtt_connections_refused', total: 201, sources: 2, top: [{ address: '10.0.0.66', reason: 'bad credentials', count: 200 }, { address: '10.0.0.67', count: 1 }] });
    const counter = (await metrics.mqttRefusals.get()).values;
    expect(counter.find((v) => v.labels.reason === 'bad_credentials')?.value).toBe(200);
    metrics.close();
  });
});
