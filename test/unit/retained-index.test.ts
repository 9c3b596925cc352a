// The retained-message index: exact filters answered by topic, wildcards as aedes does.
import { describe, expect, it } from 'vitest';
import { indexedMemoryPersistence, isExactFilter } from '../../broker/retained-index.ts';

async function collect(stream: NodeJS.ReadableStream): Promise<{ topic: string }[]> {
  const out: { topic: string }[] = [];
  for await (const p of stream as AsyncIterable<{ topic: string }>) out.push(p);
  return out;
}

const packet = (topic: string, payload: string) => ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: true, dup: false, brokerId: 'b', brokerCounter: 1 });

describe('indexedMemoryPersistence', () => {
  it('tells exact filters from wildcards', () => {
    expect(isExactFilter('devices/d1/errors')).toBe(true);
    expect(isExactFilter('devices/+/status')).toBe(false);
    expect(isExactFilter('devices/#')).toBe(false);
  });

  it('answers exact and wildcard subscriptions with the same retained messages aedes would', async () => {
    // The typings describe the callback API; the instance also has the async setup aedes calls.
    const p = indexedMemoryPersistence() as unknown as {
      setup(broker: unknown): Promise<void>;
      storeRetained(packet: unknown): Promise<void>;
      createRetainedStreamCombi(patterns: string[]): NodeJS.ReadableStream;
    };
    await p.setup({ id: 'b' });
    for (let i = 0; i < 50; i++) await p.storeRetained(packet(`devices/d${i}/status`, 'online'));
    expect((await collect(p.createRetainedStreamCombi(['devices/d7/status']))).map((x) => x.topic)).toEqual(['devices/d7/status']);
    expect(await collect(p.createRetainedStreamCombi(['devices/d7/errors']))).toEqual([]);
    expect((await collect(p.createRetainedStreamCombi(['devices/+/status']))).length).toBe(50);
    // an empty retained payload deletes the topic, for both paths
    await p.storeRetained(packet('devices/d7/status', ''));
    expect(await collect(p.createRetainedStreamCombi(['devices/d7/status']))).toEqual([]);
    expect((await collect(p.createRetainedStreamCombi(['devices/+/status']))).length).toBe(49);
  });
});
