// A cluster node's connection to a secured NATS (docs/security.md, "Cluster"): the credentials in
// CLUSTER_NATS_URL are used (nats.js itself drops the user info of a server URL, so a node of a
// NATS with authorisation was refused), a tls:// URL makes TLS required, and no log line or start-up
// error shows the password. A real nats-server (Debian's) with JetStream on a free port.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { connectCluster } from '../../server/cluster/node.ts';
import { startNats, type TestNats } from '../helpers/nats.ts';

const PASSWORD = 'p@ss/w:rd-nats';
const ENCODED = encodeURIComponent(PASSWORD);

let nats: TestNats;
let port: number;

beforeAll(async () => {
  nats = await startNats(['--user', 'wardpulse', '--pass', PASSWORD]);
  port = nats.port;
});

afterAll(async () => {
  await nats?.stop();
});

function node(url: string) {
  const lines: string[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(s) });
  const config = loadConfig({
    CLUSTER_NATS_URL: url,
    CLUSTER_NODE_ID: 'auth-test',
    CLUSTER_REPLICAS: '1',
    DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
    JWT_SECRET: 'a-shared-token-key-of-32-characters-or-more',
    CLUSTER_REDIS_URL: 'redis://127.0.0.1:1',
  });
  return { config, log, lines };
}

describe('a cluster node on a NATS with authorisation', () => {
  it('connects with the user and password of CLUSTER_NATS_URL and logs the URL without the password', async () => {
    const { config, log, lines } = node(`nats://wardpulse:${ENCODED}@127.0.0.1:${port}`);
    const cluster = await connectCluster(config, log);
    try {
      expect(cluster.connected()).toBe(true);
      // JetStream answered too: the ingest log's stream exists.
      const jsm = await cluster.nc.jetstreamManager();
      expect((await jsm.streams.info('WP_INGEST')).config.subjects).toEqual(['wp.ingest.>']);
    } finally {
      await cluster.close();
    }
    const text = lines.join('');
    expect(text).toContain(`nats://wardpulse:***@127.0.0.1:${port}`);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(ENCODED);
  });

  it('is refused with a wrong password, and the error names the server without the password', async () => {
    const { config, log } = node(`nats://wardpulse:wrong-${ENCODED}@127.0.0.1:${port}`);
    const err = await connectCluster(config, log).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`cannot connect to NATS at nats://wardpulse:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(CLUSTER_NATS_URL\\): .*Authorization Violation`, 'i'));
    expect(err?.message).not.toContain('wrong-');
  });

  it('with tls://, refuses a server that offers no TLS instead of sending the vitals in clear', async () => {
    const { config, log } = node(`tls://wardpulse:${ENCODED}@127.0.0.1:${port}`);
    const err = await connectCluster(config, log).then(
      (c) => c.close().then(() => null),
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/cannot connect to NATS at tls:\/\/wardpulse:\*\*\*@127\.0\.0\.1:\d+ \(CLUSTER_NATS_URL\): tls/);
  });
});
