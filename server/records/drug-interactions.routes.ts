// POST /api/drug-interactions/import: the pharmacy's interaction list as CSV (Content-Type
// text/csv, UTF-8; header a,b,severity,note; at most 512 KiB and 5000 lines), imported all or
// nothing — a file with any bad line imports nothing and names every one. The table's own CRUD is
// the generic resource (drugInteractionSpec, specs.ts). Parsing: drug-interactions.ts; storage:
// drug-interactions.store.ts.
import express, { type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, Errors } from '../errors.ts';
import { actorOf, type AppContext } from '../http/context.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { CSV_HEADER, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, parseInteractionCsv } from './drug-interactions.ts';
import { InteractionStore } from './drug-interactions.store.ts';

const tooLarge = (size?: number) =>
  Errors.tooLarge(`an import may be at most ${MAX_IMPORT_BYTES} bytes (512 KiB)${size === undefined ? '' : `; this one is ${size} bytes`}: split the file`);

/** text/csv in UTF-8 (or ASCII), and not too large by its declared length, before a byte is read. */
const checkCsv: RequestHandler = (req, _res, next) => {
  const [type = '', ...params] = (req.headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  if (type !== 'text/csv') return next(new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 415, `Content-Type must be text/csv (header ${CSV_HEADER.join(',')}); got '${type || 'none'}'`));
  if (charset && charset !== 'utf-8' && charset !== 'us-ascii') return next(new AppError('ERR_UNSUPPORTED_MEDIA_TYPE', 415, `the CSV must be UTF-8; got charset '${charset}'`));
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BYTES) return next(tooLarge(declared));
  next();
};

/** The body as text, with our own message for an oversized chunked upload. */
const csvBody: RequestHandler = (req, res, next) =>
  express.text({ type: () => true, limit: MAX_IMPORT_BYTES, defaultCharset: 'utf-8' })(req, res, (err?: unknown) => {
    if ((err as { type?: string } | undefined)?.type === 'entity.too.large') return next(tooLarge());
    next(err as Error | undefined);
  });

export function interactionRoutes(ctx: AppContext): Route[] {
  const store = new InteractionStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  return [
    defineRoute({
      method: 'post',
      path: '/api/drug-interactions/import',
      tag: 'drug-interactions',
      summary: `Import interactions from CSV (text/csv, header ${CSV_HEADER.join(',')}; at most ${MAX_IMPORT_BYTES} bytes and ${MAX_IMPORT_ROWS} lines): all or nothing, every bad line named`,
      permission: 'drug-interactions:manage',
      before: [checkCsv, csvBody],
      body: z.string({ error: 'send the CSV file as the body' }),
      bodyType: 'text/csv',
      status: 201,
      async handler({ req, body }) {
        const { rows, errors } = parseInteractionCsv(body);
        return store.import(actorOf(req), rows, errors);
      },
    }),
  ];
}
