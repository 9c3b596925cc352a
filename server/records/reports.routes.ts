// Uploaded reports: POST /api/patients/{id}/reports takes the file as the raw request body
// (Content-Type: application/pdf, image/png, image/jpeg or text/plain; at most 10 MiB; name in
// X-File-Name), checks that the bytes are what the type claims, stores them through FileStorage
// and records a row in `reports`. GET /api/patients/{id}/reports lists them, GET
// /api/reports/{id}/content streams one back. Every read and upload is audited.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { type AppContext, actorOf } from '../http/context.ts';
import { paging, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { AppError, Errors } from '../errors.ts';
import type { Principal } from '../domain/roles.ts';
import { assertPatientVisible, assertVisible } from './scope.ts';
import { ReportStore, publicReport, type Report, type StoredReport } from './reports.store.ts';

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

/** Routes under /api/patients/{id}/reports. */
export function patientReportRoutes(ctx: AppContext): Route[] {
  const store = new ReportStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const tag = 'reports';

  /**
   * The patient must exist and be visible before a byte of the body is read. A malformed id is
   * left to the declaration's params schema (a 400 naming it).
   */
  const visibleBeforeUpload: RequestHandler = async (req, _res, next) => {
    const id = uuid.safeParse(req.params.id);
    if (id.success) await assertPatientVisible(ctx, req.user!, id.data);
    next();
  };

  return [
    defineRoute({
      method: 'post',
      path: '/api/patients/{id}/reports',
      tag,
      summary: `Upload a report: the file is the raw body (Content-Type ${ACCEPTED}; at most 10 MiB; header X-File-Name)`,
      permission: 'reports:upload',
      status: 201,
      before: [checkUpload, visibleBeforeUpload, rawBody],
      // The path's {id} is the patient's: the audited record is the new report.
      audit: { action: 'upload', resource: 'report', id: (r: Report) => r.id, details: (r: Report) => ({ fileName: r.fileName, contentType: r.contentType, size: r.size }) },
      async handler({ req, user, params: { id: patientId } }) {
        const { type } = mediaType(req.headers['content-type']);
        const spec = TYPES[type]!;
        const data = req.body as unknown;
        if (!Buffer.isBuffer(data) || data.length === 0) throw Errors.validation('the request body is empty: send the file as the body');
        if (!spec.looksRight(data)) throw unsupportedType(`the content is not ${spec.label}, as Content-Type '${type}' says`);
        const id = randomUUID();
        const storageKey = `${patientId}/${id}`;
        await ctx.storage.put(storageKey, data);
        let row: StoredReport;
        try {
          row = await store.insert({ id, patientId, fileName: reportFileName(req.headers['x-file-name'], type), contentType: type, size: data.length, storageKey, uploadedBy: user.id });
        } catch (err) {
          await ctx.storage.delete(storageKey).catch(() => undefined);
          throw err;
        }
        return publicReport(row);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/reports',
      tag,
      summary: "A patient's reports, newest first",
      permission: 'reports:read',
      query: z.strictObject(paging),
      async handler({ req, user, params: { id }, query }) {
        await assertPatientVisible(ctx, user, id);
        return store.listOf(actorOf(req), id, query);
      },
    }),
  ];
}

/** Routes under /api/reports. */
export function reportRoutes(ctx: AppContext): Route[] {
  const store = new ReportStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const tag = 'reports';
  const visibleReport = async (user: Principal, id: string) => {
    const row = await store.find(id);
    await assertVisible(ctx, user, row?.patientId, 'report', id);
    return row!;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/reports/{id}',
      tag,
      summary: "A report's details",
      permission: 'reports:read',
      audit: { action: 'read', resource: 'report' },
      async handler({ user, params: { id } }) {
        return publicReport(await visibleReport(user, id));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/reports/{id}/content',
      tag,
      summary: 'Download a report (streamed with its type, as an attachment)',
      permission: 'reports:read',
      async handler({ req, res, user, params: { id }, audit }) {
        const row = await visibleReport(user, id);
        const file = await ctx.storage.get(row.storageKey);
        if (!file) {
          req.log?.error({ reportId: row.id }, 'report file missing from storage');
          throw Errors.notFound('report file', row.id);
        }
        // Audited before the bytes leave (a download cut short was still a read).
        audit('download', 'report', row.id, row.patientId, { size: file.size });
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
        return undefined;
      },
    }),
  ];
}
