// Reports in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, …) through @aws-sdk/client-s3,
// behind the same FileStorage interface as the local disk. The object's key is the storage key the
// server generated ({patientId}/{reportId}, both random UUIDs: nothing about the patient in it).
//
// Failures are the caller's to understand: anything between us and the bucket that goes wrong —
// refused or timed-out connections, 5xx answers, a wrong key pair, a missing bucket — is one
// ERR_UNAVAILABLE (503) to the client, and logged here with what went wrong (never the secret),
// so an operator sees "AccessDenied" or "ECONNREFUSED" while a nurse sees "retry".
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Logger } from '../logger.ts';
import { checkedKey, storageUnavailable, type FileStorage } from './index.ts';

export interface S3StorageOptions {
  /** Unset: AWS S3 for the region. */
  endpoint?: string;
  bucket: string;
  region: string;
  /** Both or neither; neither: the AWS SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Connecting, and each wait for the store's next bytes, at most this long. */
  timeoutMs: number;
  log: Logger;
}

export interface S3Storage extends FileStorage {
  /** Whether the bucket can be reached with these credentials: null when it can, else why not. */
  check(): Promise<string | null>;
  close(): void;
}

/** What went wrong, for the log: the S3 error code and status, or the socket error; never a credential. */
function describe(err: unknown): Record<string, unknown> {
  if (err instanceof S3ServiceException) return { s3Error: err.name, status: err.$metadata.httpStatusCode, requestId: err.$metadata.requestId };
  const e = err as NodeJS.ErrnoException;
  return { error: e?.code ?? e?.name ?? 'Error', message: e?.message };
}

export function createS3Storage(o: S3StorageOptions): S3Storage {
  const client = new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle,
    ...(o.accessKeyId && o.secretAccessKey ? { credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } } : {}),
    // Checksums only where S3 requires them: several S3-compatible stores refuse the newer
    // x-amz-checksum-* headers. Uploads carry Content-MD5 instead (below), which all of them check.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // socketTimeout: no byte either way for this long (a black-holed store); requestTimeout would bound
    // a whole upload, which a slow link may rightly need longer for (and it only warns by default).
    requestHandler: { connectionTimeout: Math.min(o.timeoutMs, 5000), socketTimeout: o.timeoutMs },
    // Two tries: a request waits at most about twice the timeout before the client hears 503.
    maxAttempts: 2,
  });
  const where = { bucket: o.bucket, endpoint: o.endpoint ?? `AWS S3 ${o.region}` };
  const unavailable = (op: 'put' | 'get' | 'delete', key: string, err: unknown) => {
    o.log.error({ storage: 's3', op, key, ...where, ...describe(err) }, 'report storage (S3) failed');
    return storageUnavailable(op);
  };

  return {
    async put(key, data) {
      const Key = checkedKey(key);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: o.bucket,
            Key,
            Body: data,
            ContentLength: data.length,
            // The store checks the bytes it received against this before it answers 200.
            ContentMD5: createHash('md5').update(data).digest('base64'),
            // The type the server verified is in the `reports` row and set on the download; the
            // object itself is opaque bytes, never something a browser would render.
            ContentType: 'application/octet-stream',
          }),
        );
      } catch (err) {
        throw unavailable('put', key, err);
      }
    },
    async get(key) {
      const Key = checkedKey(key);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: o.bucket, Key }));
        return { stream: res.Body as Readable, size: Number(res.ContentLength) };
      } catch (err) {
        if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404) && err.name !== 'NoSuchBucket') return null;
        throw unavailable('get', key, err);
      }
    },
    async delete(key) {
      const Key = checkedKey(key);
      try {
        // S3 answers 204 for a key that is not there, as the local disk's rm({ force: true }) does.
        await client.send(new DeleteObjectCommand({ Bucket: o.bucket, Key }));
      } catch (err) {
        throw unavailable('delete', key, err);
      }
    },
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: o.bucket }));
        return null;
      } catch (err) {
        const d = describe(err);
        return String(d.s3Error ?? d.error) + (d.status ? ` (HTTP ${String(d.status)})` : '');
      }
    },
    close() {
      client.destroy();
    },
  };
}
