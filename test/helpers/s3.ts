// A real S3-protocol server for tests: s3rver (an S3 API over a directory) on a free port of
// 127.0.0.1, with one bucket, and the settings that point WardPulse at it. It can be stopped and
// started again on the same port and data (an outage and its end).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** s3rver's one account. */
const KEY_ID = 'S3RVER';
const SECRET = 'S3RVER';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The settings that store reports in this bucket. */
  env: Record<string, string>;
  /** A client of our own, to look into the bucket without going through WardPulse. */
  client: S3Client;
  /** Every key in the bucket. */
  keys(): Promise<string[]>;
  /** An object's bytes. */
  bytes(key: string): Promise<Buffer>;
  /** Stop answering: the listener closes and open connections are cut. */
  stop(): Promise<void>;
  /** Answer again, on the same port and data. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(bucket = 'wardpulse-reports'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'wardpulse-s3-'));
  let port = 0;
  let server: S3rver | null = null;
  const start = async () => {
    server = new S3rver({ address: '127.0.0.1', port, directory, silent: true, configureBuckets: [{ name: bucket }] });
    port = (await server.run()).port;
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    const closed = s.close();
    // The SDK keeps connections alive: cut them, or close() waits for them to idle out.
    s.httpServer?.closeAllConnections();
    await closed;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET } });
  return {
    endpoint,
    bucket,
    env: { REPORTS_STORAGE: 's3', S3_ENDPOINT: endpoint, S3_BUCKET: bucket, S3_ACCESS_KEY_ID: KEY_ID, S3_SECRET_ACCESS_KEY: SECRET, S3_TIMEOUT_MS: '3000' },
    client,
    async keys() {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (res.Contents ?? []).map((o) => o.Key!).sort();
    },
    async bytes(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    },
    stop,
    start,
    async close() {
      client.destroy();
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
