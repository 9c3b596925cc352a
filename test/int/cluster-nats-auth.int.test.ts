// A cluster node's connection to a secured NATS (docs/security.md, "Cluster"): the credentials in
// CLUSTER_NATS_URL are used (nats.js itself drops the user info of a server URL, so a node of a
// NATS with authorisation was refused), a tls:// URL makes TLS required, and no log line or start-up
// error shows the password. A real nats-server (Debian's) with JetStream on a free port.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { connectCluster } from '../../server/cluster/node.ts';

const PASSWORD = 'p@ss/w:rd-nats';
const ENCODED = encodeURIComponent(PASSWORD);

let nats: ChildProcess;
let port: number;
let storeDir: string;

beforeAll(async () => {
  storeDir = mkdtempSync(join(tmpdir(), 'wardpulse-nats-'));
  nats = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', storeDir, '--user', 'wardpulse', '--pass', PASSWORD], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    nats.stdout!.on('data', onData);
    nats.stderr!.on('data', onData);
    nats.once('exit', (code) => reject(new Error(`nats-server exited (${code}):\n${out}`)));
  });
});

afterAll(async () => {
  if (nats && nats.exitCode === null) {
    const exited = new Promise((r) => nats.once('exit', r));
    nats.kill('SIGTERM');
    await exited;
  }
  rmSync(storeDir, { recursive: true, force: true });
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
