// Fault: a dashboard that stops reading. A raw WebSocket client speaks Engine.IO/Socket.IO by
// hand, subscribes to a busy ward and then pauses its socket: the server's buffer for it passes
// its bound and it is dropped, while a normal dashboard keeps receiving and ingestion goes on.
// It can then connect again.
import { afterAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import type { MqttClient } from 'mqtt';
import { collect, connectDevice, connectSocket, eventually, startStack, type Stack } from '../helpers/stack.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connect over the bare protocol: open, CONNECT with the token, subscribe to a ward. */
async function rawDashboard(base: string, token: string, ward: string): Promise<{ ws: WebSocket; closed: Promise<void> }> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify({ token })}`); // engine.io open → socket.io CONNECT
      else if (text.startsWith('40')) {
        ws.send(`420${JSON.stringify(['subscribe', { ward }])}`);
      } else if (text.startsWith('430')) resolve(); // the subscribe ack
      else if (text === '2') ws.send('3'); // ping → pong
    });
  });
  return { ws, closed };
}

describe('slow or stuck dashboard', () => {
  let stack: Stack;
  const clients: MqttClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await stack?.close();
  });

  it('drops a client that stops reading, without slowing the others or ingestion; it can rejoin', async () => {
    // Vitals are coalesced per patient per tick, so a ward is busy with many beds and short ticks;
    // the byte bound is lowered so the test does not wait for megabytes after the kernel's own
    // socket buffers (a few MB on loopback) are full.
    stack = await startStack('postgres', inject('pgUrl'), { LIVE_TICK_MS: '10', LIVE_CLIENT_MAX_BUFFER_KB: '256', LIVE_CLIENT_MAX_BUFFER_PACKETS: '200' });
    const devices = [];
    // Many beds, so every tick's message is large and the kernel's socket buffers fill quickly.
    for (let i = 0; i < 60; i++) {
      const d = await stack.provision('SL', String(i + 1));
      const c = await connectDevice(stack.mqttTcp, d.deviceId, d.secret);
      clients.push(c);
      devices.push({ ...d, c });
    }
    const normal = await connectSocket(stack.base, stack.adminToken);
    expect((await normal.emitWithAck('subscribe', { ward: 'SL' })).ok).toBe(true);
    const normalVitals = collect(normal, 'vitals');
    const stuck = await rawDashboard(stack.base, stack.adminToken, 'SL');
    // Stop reading: the kernel buffers fill, then the server's own buffers for this client.
    (stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    let running = true;
    let seq = 0;
    const stream = (async () => {
      while (running) {
        const s0 = seq;
        seq += 2;
        for (const d of devices) {
          // The heart rate steps between 60 and 130 every 1.5 s: the score changes and is pushed
          // reliably (not volatile like vitals), so a client that stops reading piles them up.
          const hr = Math.floor(Date.now() / 1500) % 2 ? 130 : 60;
          const batch = Array.from({ length: 2 }, (_, k) => ({ ts: Date.now() - 10 + k, seq: s0 + k, hr, spo2: 97, rr: 16, temp: 36.9, sbp: 120, dbp: 80 }));
          d.c.publish(`devices/${d.deviceId}/vitals`, JSON.stringify(batch), { qos: 0 });
        }
        await sleep(20);
      }
    })();

    const metrics = await eventually(async () => {
      const m = await (await fetch(`${stack.base}/metrics`)).text();
      return /wardpulse_socketio_slow_clients_dropped_total [1-9]/.test(m) ? m : null;
    }, 90_000, 'the stuck client dropped');
    // Reading again, it finds its connection closed.
    (stuck.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await stuck.closed;

    // The normal dashboard is still served and ingestion goes on.
    const seen = normalVitals.length;
    const storedBefore = Number(/wardpulse_readings_stored_total (\d+)/.exec(metrics)?.[1]);
    await eventually(() => normalVitals.length > seen, 5000, 'normal dashboard still receiving');
    await eventually(async () => {
      const m = await (await fetch(`${stack.base}/metrics`)).text();
      return Number(/wardpulse_readings_stored_total (\d+)/.exec(m)?.[1]) > storedBefore;
    }, 5000, 'ingestion continues');
    expect(normal.connected).toBe(true);

    // It can rejoin.
    const again = await rawDashboard(stack.base, stack.adminToken, 'SL');
    again.ws.close();
    running = false;
    await stream;
    normal.close();
  }, 180_000);
});
