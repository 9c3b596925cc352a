// Uploaded reports: POST /api/patients/{id}/reports takes the file as the raw request body
// (Content-Type: application/pdf, image/png, image/jpeg or text/plain; at most 10 MiB; name in
// X-File-Name), checks that the bytes are what the type claims, stores them through FileStorage
// and records a row in `reports`. GET /api/patients/{id}/reports lists them, GET
// /api/reports/{id}/content streams one back. Every read and upload is audited.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam, paging, parse } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { AppError, Errors } from '../errors.ts';
import type { Queryable } from '../../db/driver.ts';
import { assertPatientVisible, assertVisible } from './scope.ts';

export const MAX_REPORT_BYTES = 10 * 1024 * 1024;

const startsWith = (buf: Buffer, bytes: number[]) => buf.length >= bytes.length && bytes.every((b, i) => buf[i] === b);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Accepted types, each with a check of the content itself (magic numbers; UTF-8 text). */
const TYPES: Record<string, { ext: string; aliases?: string[]; label: string; looksRight(buf: Buffer): boolean }> = {
  'application/pdf': { ext: 'pdf', label: 'a PDF', looksRight: (b) => startsWith(b, [0x25, 0x50, 0x44, 0x46, 0x2d]) }, // %PDF-
  'image/png': { ext: 'png', label: 'a PNG image', looksRight: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  'image/jpeg': { ext: 'jpg', aliases: ['jpeg'], label: 'a JPEG image', looksRight: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  'text/plain': {
    ext: 'txt',
    label: 'UTF-8 text',
    looksRight: (b) => {
      if (b.includes(0)) return false;
      try {
        utf8.decode(b);
        return true;
      } catch {
        return false;
      }
    },
  },
};
const ACCEPTED = Object.keys(TYPES).join(', ');

const unsupportedType = (message: string) => new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 415, message);
const tooLarge = (size?: number) =>
  Errors.tooLarge(`a report may be at most 10 MiB (${MAX_REPORT_BYTES} bytes)${size === undefined ? '' : `; this one is ${size} bytes`}`);

function mediaType(header: string | undefined): { type: string; charset: string | null } {
  const [type = '', ...params] = (header ?? '').split(';').map((s) => s.trim());
  const charset = params.find((p) => /^charset=/i.test(p))?.slice(8).replace(/"/g, '').toLowerCase() ?? null;
  return { type: type.toLowerCase(), charset };
}

// Characters that change how a name is shown or read rather than what it says: C0/C1 controls,
// the Unicode bidirectional controls (LRM/RLM/ALM, embeddings, overrides, isolates — the
// "invoice‮fdp.exe" trick, Unicode TR 9 / CVE-2021-42574), zero-width characters and the
// line/paragraph separators. Stripped from every stored name.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"]/g;

/**
 * The name a report is stored and downloaded under: percent-decoded, without directories or
 * invisible characters, and ending in the extension of the type the content was verified to be
 * (a PDF named "scan.exe" is downloaded as "scan.exe.pdf"). Pure.
 */
export function reportFileName(header: unknown, contentType: string): string {
  const spec = TYPES[contentType];
  const ext = spec?.ext ?? 'bin';
  let name = typeof header === 'string' ? header : '';
  try {
    name = decodeURIComponent(name);
  } catch {
    /* kept as sent */
  }
  name = (name.normalize('NFC').split(/[/\\]/).pop() ?? '').replace(INVISIBLE, '').trim().replace(/[. ]+$/, '').slice(0, 200);
  if (!name || name.startsWith('.')) name = `report${name}`;
  const current = /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1]?.toLowerCase();
  const fits = current !== undefined && (current === ext || (spec?.aliases ?? []).includes(current));
  return fits ? name : `${name}.${ext}`;
}

export interface Report {
  id: string;
  patientId: string;
  fileName: string;
  contentType: string;
  size: number;
  uploadedBy: string | null;
  createdAt: string;
}
interface ReportRow extends Report {
  storageKey: string;
}

const cols = 'id, patient_id, file_name, content_type, size, storage_key, uploaded_by, created_at';
const toReport = (r: Record<string, unknown>): ReportRow => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  fileName: r.file_name as string,
  contentType: r.content_type as string,
  size: Number(r.size),
  storageKey: r.storage_key as string,
  uploadedBy: (r.uploaded_by as string | null) ?? null,
  createdAt: new Date(r.created_at as string).toISOString(),
});
const publicReport = ({ storageKey: _internal, ...rest }: ReportRow): Report => rest;

async function getReport(db: Queryable, id: string): Promise<ReportRow | null> {
  const { rows } = await db.query(`SELECT ${cols} FROM reports WHERE id = $1`, [id]);
  return rows[0] ? toReport(rows[0]) : null;
}

/** Type and declared size, refused before a byte of the body is read. */
const checkUpload: RequestHandler = (req, _res, next) => {
  const { type, charset } = mediaType(req.headers['content-type']);
  if (!TYPES[type]) return next(unsupportedType(`Content-Type must be one of ${ACCEPTED}; got '${type || 'none'}'`));
  if (type === 'text/plain' && charset && charset !== 'utf-8' && charset !== 'us-ascii') return next(unsupportedType(`text reports must be UTF-8; got charset '${charset}'`));
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_REPORT_BYTES) return next(tooLarge(declared));
  next();
};

/** The body as a Buffer, with our own message for an oversized chunked upload. */
const rawBody: RequestHandler = (req, res, next) =>
  express.raw({ type: () => true, limit: MAX_REPORT_BYTES })(req, res, (err?: unknown) => {
    if ((err as { type?: string } | undefined)?.type === 'entity.too.large') return next(tooLarge());
    next(err as Error | undefined);
  });

/** Routes under /api/patients. */
export function patientReportRoutes(ctx: AppContext): Router {
  const r = Router();
  const visiblePatient = (req: express.Request, id: string) => assertPatientVisible(ctx, req.user!, id);

  describeRoute({
    method: 'post',
    path: '/api/patients/{id}/reports',
    tag: 'reports',
    summary: `Upload a report: the file is the raw body (Content-Type ${ACCEPTED}; at most 10 MiB; header X-File-Name)`,
    permission: 'reports:upload',
    status: 201,
  });
  r.post(
    '/:id/reports',
    allow('reports:upload'),
    checkUpload,
    handler(async (req, _res, next) => {
      await visiblePatient(req, idParam(req.params.id));
      next();
    }),
    rawBody,
    handler(async (req, res) => {
      const patientId = idParam(req.params.id);
      const { type } = mediaType(req.headers['content-type']);
      const spec = TYPES[type]!;
      const data = req.body as unknown;
      if (!Buffer.isBuffer(data) || data.length === 0) throw Errors.validation('the request body is empty: send the file as the body');
      if (!spec.looksRight(data)) throw unsupportedType(`the content is not ${spec.label}, as Content-Type '${type}' says`);
      const id = randomUUID();
      const storageKey = `${patientId}/${id}`;
      await ctx.storage.put(storageKey, data);
      let row: ReportRow;
      try {
        const { rows } = await ctx.db.driver.query(
          `INSERT INTO reports (id, patient_id, file_name, content_type, size, storage_key, uploaded_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${cols}`,
          [id, patientId, reportFileName(req.headers['x-file-name'], type), type, data.length, storageKey, req.user!.id],
        );
        row = toReport(rows[0]!);
      } catch (err) {
        await ctx.storage.delete(storageKey).catch(() => undefined);
        throw err;
      }
      ctx.audit(auditOf(req, 'upload', 'report', id, patientId, { fileName: row.fileName, contentType: type, size: row.size }));
      res.status(201).json(publicReport(row));
    }),
  );

  const listQuery = z.strictObject(paging);
  describeRoute({ method: 'get', path: '/api/patients/{id}/reports', tag: 'reports', summary: "A patient's reports, newest first", permission: 'reports:read', query: listQuery });
  r.get(
    '/:id/reports',
    allow('reports:read'),
    handler(async (req, res) => {
      const patientId = idParam(req.params.id);
      const q = parse(listQuery, req.query, 'query');
      await visiblePatient(req, patientId);
      const { rows } = await ctx.db.driver.query(
        `SELECT ${cols}, count(*) OVER ()::int AS __total FROM reports WHERE patient_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
        [patientId, q.limit, q.offset],
      );
      ctx.audit(auditOf(req, 'list', 'report', null, patientId, { count: rows.length }));
      res.json({ items: rows.map((x) => publicReport(toReport(x))), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );
  return r;
}

/** Routes under /api/reports. */
export function reportRoutes(ctx: AppContext): Router {
  const r = Router();
  const visibleReport = async (req: express.Request, id: string) => {
    const row = await getReport(ctx.db.driver, id);
    await assertVisible(ctx, req.user!, row?.patientId, 'report', id);
    return row!;
  };

  describeRoute({ method: 'get', path: '/api/reports/{id}', tag: 'reports', summary: "A report's details", permission: 'reports:read' });
  r.get(
    '/:id',
    allow('reports:read'),
    handler(async (req, res) => {
      const row = await visibleReport(req, idParam(req.params.id));
      ctx.audit(auditOf(req, 'read', 'report', row.id, row.patientId));
      res.json(publicReport(row));
    }),
  );

  describeRoute({ method: 'get', path: '/api/reports/{id}/content', tag: 'reports', summary: 'Download a report (streamed with its type, as an attachment)', permission: 'reports:read' });
  r.get(
    '/:id/content',
    allow('reports:read'),
    handler(async (req, res) => {
      const row = await visibleReport(req, idParam(req.params.id));
      const file = await ctx.storage.get(row.storageKey);
      if (!file) {
        req.log?.error({ reportId: row.id }, 'report file missing from storage');
        throw Errors.notFound('report file', row.id);
      }
      ctx.audit(auditOf(req, 'download', 'report', row.id, row.patientId, { size: file.size }));
      // Names stored before the rule above are held to it on the way out too.
      const name = reportFileName(encodeURIComponent(row.fileName), row.contentType);
      const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
      res.status(200).set({
        'Content-Type': row.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : row.contentType,
        'Content-Length': String(file.size),
        // An attachment, never rendered in the app's origin; RFC 6266 name with an ASCII fallback.
        'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        'X-Content-Type-Options': 'nosniff',
        'Content-Security-Policy': "default-src 'none'; sandbox",
        'Cache-Control': 'private, no-store',
      });
      // Headers are out: a failure now (client gone, disk error) can only cut the response.
      await pipeline(file.stream, res).catch((err: Error) => {
        req.log?.warn({ reportId: row.id, err: err.message }, 'report download interrupted');
        res.destroy();
      });
    }),
  );
  return r;
}
