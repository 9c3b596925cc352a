// Reports: uploaded as the raw body, checked for type and size, stored through the storage
// interface — on the local disk and in an S3-compatible bucket (s3rver, a real S3-protocol server
// started here) — listed and downloaded within the patient's scope, every access audited; on each
// database driver. With S3: an outage answers 503 and leaves no row without its file.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { createLocalDiskStorage } from '../../server/storage/index.ts';
import { createS3Storage } from '../../server/storage/s3.ts';
import { createLogger } from '../../server/logger.ts';
import { AppError } from '../../server/errors.ts';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

type StorageKind = 'local' | 's3';

describe.each<[DbKind, StorageKind]>([
  ['pglite', 'local'],
  ['postgres', 'local'],
  ['postgres', 's3'],
])('reports on %s, files on %s', (kind, storageKind) => {
  let stack: Stack;
  let s3: TestS3 | null = null;
  let doctor: string;
  let patientId: string;
  let patientToken: string;
  let otherId: string;
  beforeAll(async () => {
    if (storageKind === 's3') s3 = await startS3();
    stack = await startStack(kind, inject('pgUrl'), s3?.env ?? {});
    await stack.api('POST', '/api/auth/register', { email: 'doc-rep@test.local', name: 'Doc', password: 'doctor-pass-1', role: 'doctor' });
    doctor = await stack.login('doc-rep@test.local', 'doctor-pass-1');
    patientId = (await stack.api('POST', '/api/auth/register', { email: 'pat-rep@test.local', name: 'Pat', password: 'patient-pass-1' }, null)).body.patientId;
    patientToken = await stack.login('pat-rep@test.local', 'patient-pass-1');
    otherId = (await stack.api('POST', '/api/auth/register', { email: 'pat2-rep@test.local', name: 'Other', password: 'patient-pass-2' }, null)).body.patientId;
  });
  afterAll(async () => {
    await stack?.close();
    await s3?.close();
  });

  /** The keys of the stored files, read from the store itself (the bucket, or DATA_DIR/reports). */
  const storedKeys = async (): Promise<string[]> => {
    if (s3) return s3.keys();
    const root = join(stack.dataDir, 'reports');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)).map((f) => `${dir}/${f}`)).sort();
  };

  const upload = async (id: string, body: Buffer | string, type: string | null, token: string, name?: string) => {
    const res = await fetch(`${stack.base}/api/patients/${id}/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}), ...(name ? { 'x-file-name': name } : {}) },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('stores an upload and lets the patient list and download it, with its type', async () => {
    const up = await upload(patientId, PDF, 'application/pdf', doctor, encodeURIComponent('Blood test – März.pdf'));
    expect(up).toMatchObject({ status: 201, body: { patientId, fileName: 'Blood test – März.pdf', contentType: 'application/pdf', size: PDF.length } });
    expect(up.body.storageKey).toBeUndefined();

    const list = await stack.api('GET', `/api/patients/${patientId}/reports`, undefined, patientToken);
    expect(list.body.items.map((r: any) => r.id)).toEqual([up.body.id]);
    const res = await fetch(`${stack.base}/api/reports/${up.body.id}/content`, { headers: { authorization: `Bearer ${patientToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="Blood test _ M_rz.pdf"; filename\*=UTF-8''Blood%20test%20%E2%80%93%20M%C3%A4rz\.pdf$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-length')).toBe(String(PDF.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(PDF)).toBe(true);
    // Stored under {patientId}/{reportId}: random ids, nothing of the patient or the file's name.
    const key = `${patientId}/${up.body.id}`;
    expect(await storedKeys()).toEqual([key]);
    expect(key).toMatch(new RegExp(`^${UUID}/${UUID}$`));
    if (s3) expect((await s3.bytes(key)).equals(PDF)).toBe(true);

    const txt = await upload(patientId, 'Discharge note: all well.\n', 'text/plain; charset=utf-8', doctor, '../../etc/passwd');
    expect(txt).toMatchObject({ status: 201, body: { fileName: 'passwd.txt', contentType: 'text/plain' } });
    const png = await upload(patientId, PNG, 'image/png', doctor);
    expect(png.body.fileName).toBe('report.png');
    const text = await fetch(`${stack.base}/api/reports/${txt.body.id}/content`, { headers: { authorization: `Bearer ${doctor}` } });
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('Discharge note: all well.\n');
  });

  it('refuses other types, content that is not what it claims, and oversized or empty files', async () => {
    const gif = await upload(patientId, 'GIF89a', 'image/gif', doctor);
    expect(gif).toMatchObject({ status: 415, body: { error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } } });
    expect(gif.body.error.message).toMatch(/application\/pdf, image\/png, image\/jpeg, text\/plain; got 'image\/gif'/);
    expect((await upload(patientId, PDF, null, doctor)).status).toBe(415);
    const fake = await upload(patientId, '<html>not a pdf</html>', 'application/pdf', doctor);
    expect(fake).toMatchObject({ status: 415, body: { error: { message: "the content is not a PDF, as Content-Type 'application/pdf' says" } } });
    expect((await upload(patientId, PDF, 'image/jpeg', doctor)).status).toBe(415);
    expect((await upload(patientId, Buffer.from([0x61, 0x00, 0x62]), 'text/plain', doctor)).status).toBe(415);
    expect((await upload(patientId, 'x', 'text/plain; charset=iso-8859-1', doctor)).status).toBe(415);
    const big = Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024 + 1 - PDF.length)]);
    const large = await upload(patientId, big, 'application/pdf', doctor);
    expect(large).toMatchObject({ status: 413, body: { error: { code: 'ERR_TOO_LARGE' } } });
    expect(large.body.error.message).toMatch(/at most 10 MiB.*10485761 bytes/);
    // Streamed without a length: cut off at the limit while reading.
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 11) c.enqueue(chunk);
        else c.close();
      },
    });
    const chunked = await fetch(`${stack.base}/api/patients/${patientId}/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${doctor}`, 'content-type': 'text/plain' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as any).error.message).toMatch(/at most 10 MiB/);
    // Exactly 10 MiB is accepted.
    expect((await upload(patientId, big.subarray(0, 10 * 1024 * 1024), 'application/pdf', doctor)).status).toBe(201);
    expect((await upload(patientId, '', 'text/plain', doctor)).status).toBe(400);
    expect((await upload('00000000-0000-4000-8000-000000000000', PDF, 'application/pdf', doctor)).status).toBe(404);
  });

  it('keeps reports within the patient scope and the uploading roles', async () => {
    expect((await upload(patientId, PDF, 'application/pdf', patientToken)).status).toBe(403);
    expect((await upload(patientId, PDF, 'application/pdf', stack.adminToken)).status).toBe(403);
    const theirs = await upload(otherId, PDF, 'application/pdf', doctor);
    expect((await stack.api('GET', `/api/patients/${otherId}/reports`, undefined, patientToken)).status).toBe(404);
    expect((await stack.api('GET', `/api/reports/${theirs.body.id}`, undefined, patientToken)).status).toBe(404);
    expect((await stack.api('GET', `/api/reports/${theirs.body.id}/content`, undefined, patientToken)).status).toBe(404);
    expect((await stack.api('GET', `/api/reports/${theirs.body.id}`, undefined, doctor)).status).toBe(200);
  });

  it('writes audit rows for uploads, lists and downloads', async () => {
    const trail = await eventually(async () => {
      const items = (await stack.api('GET', `/api/audit?patientId=${patientId}&limit=1000`)).body.items as any[];
      const actions = new Set(items.filter((i) => i.resource === 'report').map((i) => i.action));
      return actions.has('upload') && actions.has('download') && actions.has('list') ? items : null;
    }, 5000, 'report audit rows');
    const downloads = trail.filter((i) => i.resource === 'report' && i.action === 'download');
    expect(downloads).toContainEqual(expect.objectContaining({ actorRole: 'patient', patientId, ip: expect.any(String) }));
  });

  it.runIf(storageKind === 'local')('local-disk storage keeps files under its root and refuses keys that would leave it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wardpulse-storage-'));
    try {
      const storage = createLocalDiskStorage(join(root, 'reports'));
      await storage.put('p1/r1', Buffer.from('hello'));
      expect(readdirSync(join(root, 'reports', 'p1'))).toEqual(['r1']);
      const got = await storage.get('p1/r1');
      expect(got?.size).toBe(5);
      got?.stream.destroy();
      expect(await storage.get('p1/none')).toBeNull();
      await expect(storage.put('../escape', Buffer.from('x'))).rejects.toThrow(/bad storage key/);
      await expect(storage.get('/etc/passwd')).rejects.toThrow(/bad storage key/);
      await storage.delete('p1/r1');
      expect(existsSync(join(root, 'reports', 'p1', 'r1'))).toBe(false);
      // A disk that cannot be written (here: the root is a file) is the store unavailable, not a 500.
      writeFileSync(join(root, 'not-a-dir'), 'x');
      const broken = createLocalDiskStorage(join(root, 'not-a-dir'));
      await expect(broken.put('p1/r2', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE', status: 503, message: 'report storage is not available: the report was not stored; retry later' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names the download by the verified type and strips bidi and control characters from stored names (issue 11, finding 10)', async () => {
    // "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf" in a file list: the override is removed.
    const bidi = await upload(patientId, PDF, 'application/pdf', doctor, encodeURIComponent('invoice\u202efdp.exe'));
    expect(bidi.status).toBe(201);
    expect(bidi.body.fileName).toBe('invoicefdp.exe.pdf');
    const hidden = await upload(patientId, 'plain words\n', 'text/plain', doctor, encodeURIComponent('note\u200b\u2066\u0085\u0007 one.html'));
    expect(hidden.body.fileName).toBe('note one.html.txt');
    const jpeg = await upload(patientId, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'image/jpeg', doctor, 'x-ray.JPEG');
    expect(jpeg.body.fileName).toBe('x-ray.JPEG');
    const res = await fetch(`${stack.base}/api/reports/${bidi.body.id}/content`, { headers: { authorization: `Bearer ${doctor}` } });
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="invoicefdp.exe.pdf"; filename*=UTF-8''invoicefdp.exe.pdf`);
    await res.arrayBuffer();
    // A name stored before the rule (straight into the table) leaves with the rule applied.
    await stack.server.db.driver.query('UPDATE reports SET file_name = $2 WHERE id = $1', [bidi.body.id, 'old\u202egnp.exe']);
    const old = await fetch(`${stack.base}/api/reports/${bidi.body.id}/content`, { headers: { authorization: `Bearer ${doctor}` } });
    expect(old.headers.get('content-disposition')).toMatch(/^attachment; filename="oldgnp\.exe\.pdf"/);
    await old.arrayBuffer();
  });
  it('leaves no file behind when the row cannot be written (the file is stored first, then the row)', async () => {
    const before = await storedKeys();
    const total = (await stack.api('GET', `/api/patients/${patientId}/reports`, undefined, doctor)).body.total;
    await stack.server.db.driver.query("ALTER TABLE reports ADD CONSTRAINT test_refuse CHECK (file_name <> 'refuse-me.pdf')");
    try {
      const refused = await upload(patientId, PDF, 'application/pdf', doctor, 'refuse-me.pdf');
      expect(refused).toMatchObject({ status: 500, body: { error: { code: 'ERR_INTERNAL' } } });
    } finally {
      await stack.server.db.driver.query('ALTER TABLE reports DROP CONSTRAINT test_refuse');
    }
    expect(await storedKeys()).toEqual(before);
    expect((await stack.api('GET', `/api/patients/${patientId}/reports`, undefined, doctor)).body.total).toBe(total);
  });

  it.runIf(storageKind === 's3')('S3 storage puts, streams and deletes objects under server keys only', async () => {
    const storage = createS3Storage({ endpoint: s3!.endpoint, bucket: s3!.bucket, region: 'us-east-1', accessKeyId: s3!.env.S3_ACCESS_KEY_ID, secretAccessKey: s3!.env.S3_SECRET_ACCESS_KEY, forcePathStyle: true, timeoutMs: 3000, log: createLogger('silent') });
    try {
      expect(await storage.check()).toBeNull();
      await storage.put('p1/r1', Buffer.from('hello'));
      const got = await storage.get('p1/r1');
      expect(got?.size).toBe(5);
      const chunks: Buffer[] = [];
      for await (const c of got!.stream) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('hello');
      expect(await storage.get('p1/none')).toBeNull();
      await expect(storage.put('../escape', Buffer.from('x'))).rejects.toThrow(/bad storage key/);
      await expect(storage.get('/etc/passwd')).rejects.toThrow(/bad storage key/);
      await storage.delete('p1/r1');
      expect(await s3!.keys()).not.toContain('p1/r1');
      expect(await storage.get('p1/r1')).toBeNull();
      await storage.delete('p1/r1'); // gone already: no error, as on the local disk
      // Credentials the store refuses are the store unavailable to the client (503); the log says why.
      // (s3rver knows key ids but does not verify SigV4 signatures: an unknown id is what it refuses.)
      const wrong = createS3Storage({ endpoint: s3!.endpoint, bucket: s3!.bucket, region: 'us-east-1', accessKeyId: 'NOT-OUR-KEY', secretAccessKey: 'not-the-secret', forcePathStyle: true, timeoutMs: 3000, log: createLogger('silent') });
      await expect(wrong.put('p1/r3', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE', status: 503 });
      await expect(wrong.get('p1/r3')).rejects.toBeInstanceOf(AppError);
      expect(await wrong.check()).toMatch(/403/);
      wrong.close();
      expect(await s3!.keys()).not.toContain('p1/r3');
    } finally {
      storage.close();
    }
  });

  it.runIf(storageKind === 's3')('gives up on a store that accepts connections and never answers, within S3_TIMEOUT_MS per try', async () => {
    // A black hole: the TCP handshake succeeds, no byte ever comes back.
    const sockets = new Set<Socket>();
    const hole = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const storage = createS3Storage({ endpoint: `http://127.0.0.1:${(hole.address() as AddressInfo).port}`, bucket: 'b-hole', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true, timeoutMs: 300, log: createLogger('silent') });
    try {
      const t0 = Date.now();
      await expect(storage.put('p1/r1', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
      // Two tries of 300 ms and the SDK's back-off between them, not a hang.
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      storage.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => hole.close(r));
    }
  });

  it.runIf(storageKind === 's3')('answers 503 while the bucket is unreachable, records nothing, and works again when it is back', async () => {
    const stored = await upload(patientId, PDF, 'application/pdf', doctor, 'before-outage.pdf');
    expect(stored.status).toBe(201);
    const keys = await storedKeys();
    const total = (await stack.api('GET', `/api/patients/${patientId}/reports`, undefined, doctor)).body.total;

    await s3!.stop();
    const up = await upload(patientId, PNG, 'image/png', doctor, 'during-outage.png');
    expect(up).toMatchObject({ status: 503, body: { error: { code: 'ERR_UNAVAILABLE', message: 'report storage is not available: the report was not stored; retry later' } } });
    // No row points to a file that was never stored.
    const during = await stack.api('GET', `/api/patients/${patientId}/reports`, undefined, doctor);
    expect(during.body.total).toBe(total);
    expect(during.body.items.map((r: any) => r.fileName)).not.toContain('during-outage.png');
    const down = await stack.api('GET', `/api/reports/${stored.body.id}/content`, undefined, patientToken);
    expect(down).toMatchObject({ status: 503, body: { error: { code: 'ERR_UNAVAILABLE', message: 'report storage is not available: the report cannot be read now; retry later' } } });
    // The report's details are in the database: still readable.
    expect((await stack.api('GET', `/api/reports/${stored.body.id}`, undefined, doctor)).status).toBe(200);

    await s3!.start();
    expect(await storedKeys()).toEqual(keys);
    const after = await upload(patientId, PNG, 'image/png', doctor, 'after-outage.png');
    expect(after.status).toBe(201);
    const res = await fetch(`${stack.base}/api/reports/${stored.body.id}/content`, { headers: { authorization: `Bearer ${patientToken}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(PDF)).toBe(true);
    const png = await fetch(`${stack.base}/api/reports/${after.body.id}/content`, { headers: { authorization: `Bearer ${doctor}` } });
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await png.arrayBuffer()).equals(PNG)).toBe(true);
  });
});
