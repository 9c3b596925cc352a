// ADR 0023, at the broker alone (aedes on a loopback port, the host's hooks stubbed): a QoS 1
// PUBACK waits for the promise onVitals returns; `false` means not stored — no PUBACK, the
// connection is closed and the refusal recorded; QoS 0 does not wait.
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { createBroker, type Broker, type BrokerHooks } from '../../broker/index.ts';
import type { DeviceRegistry } from '../../broker/device-registry.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker: QoS 1 PUBACK after durable', () => {
  let broker: Broker | null = null;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true);
    await broker?.close();
    broker = null;
  });

  async function start(onVitals: BrokerHooks['onVitals'], opts: mqtt.IClientOptions = {}) {
    const refused: string[] = [];
    broker = await createBroker({
      // Anonymous mode: unknown ids are admitted without a secret and never looked up further.
      registry: { get: () => undefined } as unknown as DeviceRegistry,
      allowAnonymous: true,
      log: pino({ level: 'silent' }),
      hooks: { onVitals, onStatus: () => undefined, onRefused: (_d, _t, reason) => refused.push(reason) },
    });
    const port = await broker.listenTcp(0, '127.0.0.1');
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-1', reconnectPeriod: 0, ...opts });
    c.on('error', () => undefined);
    clients.push(c);
    await new Promise((r) => c.once('connect', r));
    return { c, refused };
  }

  it('sends the PUBACK only once the host says the message is durable', async () => {
    let durable: (ok: boolean) => void = () => undefined;
    const { c } = await start(() => new Promise<boolean>((r) => (durable = r)));
    let acked = false;
    c.publish('devices/dev-1/vitals', '{"hr":70}', { qos: 1 }, (err) => (acked = !err));
    await sleep(100);
    expect(acked).toBe(false);
    durable(true);
    await sleep(100);
    expect(acked).toBe(true);
  });

  it('a message the host could not keep gets no PUBACK: the connection is closed and the refusal recorded', async () => {
    const { c, refused } = await start(() => Promise.resolve(false));
    let acked = false;
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish('devices/dev-1/vitals', '{"hr":70}', { qos: 1 }, (err) => (acked = !err));
    await closed;
    expect(acked).toBe(false);
    expect(refused.join('\n')).toMatch(/not stored.*not acknowledged/);
  });

  it('QoS 0 does not wait for durability', async () => {
    const seen: number[] = [];
    const { c } = await start((_d, _p, _t, _r, qos) => {
      seen.push(qos ?? 0);
      return null;
    });
    c.publish('devices/dev-1/vitals', '{"hr":70}', { qos: 0 });
    await sleep(100);
    expect(seen).toEqual([0]);
  });

  it('a QoS 1 will is still published when its connection drops (it is not taken as a device message)', async () => {
    const { c } = await start(() => null, { will: { topic: 'devices/dev-1/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
    const wills: string[] = [];
    broker!.aedes.on('publish', (packet, client) => {
      if (client && packet.topic === 'devices/dev-1/status') wills.push(packet.payload.toString());
    });
    (c as unknown as { stream: { destroy(): void } }).stream.destroy();
    await sleep(200);
    expect(wills).toEqual(['offline']);
  });
});
