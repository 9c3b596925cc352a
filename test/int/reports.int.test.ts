// Reports: uploaded as the raw body, checked for type and size, stored on disk through the
// storage interface, listed and downloaded within the patient's scope, every access audited; on
// each database driver.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { createLocalDiskStorage } from '../../server/storage/index.ts';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);

describe.each<DbKind>(['pglite', 'postgres'])('reports on %s', (kind) => {
  let stack: Stack;
  let doctor: string;
  let patientId: string;
  let patientToken: string;
  let otherId: string;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    await stack.api('POST', '/api/auth/register', { email: 'doc-rep@test.local', name: 'Doc', password: 'doctor-pass-1', role: 'doctor' });
    doctor = await stack.login('doc-rep@test.local', 'doctor-pass-1');
    patientId = (await stack.api('POST', '/api/auth/register', { email: 'pat-rep@test.local', name: 'Pat', password: 'patient-pass-1' }, null)).body.patientId;
    patientToken = await stack.login('pat-rep@test.local', 'patient-pass-1');
    otherId = (await stack.api('POST', '/api/auth/register', { email: 'pat2-rep@test.local', name: 'Other', password: 'patient-pass-2' }, null)).body.patientId;
  });
  afterAll(async () => stack?.close());

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
    expect(Buffer.from(await res.arrayBuffer()).equals(PDF)).toBe(true);

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

  it('local-disk storage keeps files under its root and refuses keys that would leave it', async () => {
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
});
