// aedes' memory persistence answers every SUBSCRIBE by testing the filter against *every*
// retained message. With a retained status per device and a subscription per device, connecting a
// fleet costs O(devices²): at 5,000 beds a third of the server's time (bench/README.md). Exact
// filters (no '+' or '#') — what devices subscribe to — are answered from an index by topic;
// wildcard filters go to aedes as before.
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { AedesMemoryPersistence as Persistence } from 'aedes-persistence';

// A CommonJS module whose typings declare an ES default export: load it as what it is.
const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => Persistence;
interface RetainedPacket {
  topic: string;
  payload: Buffer | string;
}

export function isExactFilter(filter: string): boolean {
  return !filter.includes('+') && !filter.includes('#');
}

export function indexedMemoryPersistence(): Persistence {
  const persistence = memoryPersistence();
  const byTopic = new Map<string, RetainedPacket>();
  const store = persistence.storeRetained.bind(persistence) as (packet: RetainedPacket, cb?: (err?: Error | null) => void) => unknown;
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  (persistence as unknown as { storeRetained: typeof store }).storeRetained = (packet, cb) => {
    // The same rule as aedes-persistence: an empty retained payload deletes the topic.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
    return store(packet, cb);
  };
  persistence.createRetainedStreamCombi = (patterns: string[]) => {
    if (!patterns.every(isExactFilter)) return combi(patterns);
    const found = patterns.map((p) => byTopic.get(p)).filter((p): p is RetainedPacket => p !== undefined);
    return Readable.from(found);
  };
  return persistence;
}
