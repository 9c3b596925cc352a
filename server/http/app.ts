// The HTTP application, built without listening (tests and main.ts listen). Routes only wire;
// one error handler turns the error catalogue into JSON and never leaks a stack or patient data.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler } from 'express';
import { type AppContext, authenticate } from './context.ts';
import { authRoutes } from './auth.routes.ts';
import { userRoutes } from './users.routes.ts';
import { patientRoutes } from './patients.routes.ts';
import { deviceRoutes } from './devices.routes.ts';
import { opsRoutes } from './ops.routes.ts';
import { analyticsRoutes } from './analytics.routes.ts';
import { familyRoutes } from '../records/family.routes.ts';
import { admissionRoutes } from '../records/admissions.routes.ts';
import { patientReportRoutes, reportRoutes } from '../records/reports.routes.ts';
import { resourceRoutes } from '../records/resource.ts';
import { doctorSpec, drugInteractionSpec, historySpec, labTestSpec, patientSpec, staffSpec, stockItemSpec, symptomMapSpec } from '../records/specs.ts';
import { DOCS_CSS, buildOpenApi, docsPage } from './openapi.ts';
import { RouteRegistry } from './route.ts';
import { securityHeaders } from './security-headers.ts';
import { AppError, Errors } from '../errors.ts';
import { appointmentRoutes, scheduleRoutes } from '../records/appointments.routes.ts';
import { queueRoutes } from '../records/queue.routes.ts';
import { stockRoutes } from '../records/stock.routes.ts';
import { billingRoutes } from '../records/billing.routes.ts';
import { paymentWebhookRoutes } from '../records/payments.routes.ts';
import { telemetryRoutes } from './telemetry.routes.ts';
import { prescriptionRoutes } from '../records/prescriptions.routes.ts';
import { suggestRoutes } from '../records/doctor-suggest.routes.ts';
import { referralRoutes } from '../records/referrals.routes.ts';
import { labOrderRoutes } from '../records/lab-orders.routes.ts';
import { interactionRoutes } from '../records/drug-interactions.routes.ts';
import { notificationRoutes } from '../notify/notifications.routes.ts';

const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));
const WEB_PUBLIC = fileURLToPath(new URL('../../web/public/', import.meta.url));

export function buildApp(ctx: AppContext): express.Express {
  const app = express();
  // This app's route declarations: they serve, validate and document (route.ts, openapi.ts).
  const routes = new RouteRegistry(ctx);
  app.disable('x-powered-by');
  // CSP, no framing, nosniff, no referrer; HSTS under TLS (security-headers.ts).
  app.use(securityHeaders({ https: ctx.policy.https }));
  // X-Forwarded-For is believed only from the proxies TRUST_PROXY names: otherwise any client
  // could pick its own address and walk past the login and registration limits.
  app.set('trust proxy', ctx.policy.trustProxy ? [...ctx.policy.trustProxy] : false);

  app.use((req, res, next) => {
    const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) ?? randomUUID();
    res.setHeader('X-Request-Id', id);
    req.log = ctx.log.child({ reqId: id });
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      req.log!.debug({ method: req.method, url: req.originalUrl.split('?')[0], status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });
  // Before the JSON parser: the provider signs the raw body bytes, so they must reach it unparsed.
  app.use(routes.router(paymentWebhookRoutes(ctx)));
  // Likewise device telemetry: authenticated before its body is read, then read as bytes (the decoder's).
  app.use(routes.router(telemetryRoutes(ctx)));
  app.use(express.json({ limit: '256kb', strict: false }));

  app.use(routes.router(opsRoutes(ctx)));
  app.use(routes.router(authRoutes(ctx)));
  app.use(routes.router(userRoutes(ctx)));
  app.get('/api/openapi.json', (_req, res) => {
    res.json(buildOpenApi(routes.routes));
  });
  app.get('/api/docs', (_req, res) => {
    res.type('html').send(docsPage(routes.routes));
  });
  // The docs page's style as a file: the CSP allows no inline style.
  app.get('/api/docs.css', (_req, res) => {
    res.type('css').send(DOCS_CSS);
  });
  app.use(routes.router(resourceRoutes(patientSpec, ctx)));
  app.use(routes.router(patientRoutes(ctx)));
  app.use(routes.router(stockRoutes(ctx))); // before the generic item CRUD: '/low' is not an id
  app.use(routes.router(suggestRoutes(ctx))); // before the generic doctor CRUD: '/suggest' is not an id
  for (const spec of [doctorSpec, staffSpec, historySpec, stockItemSpec, symptomMapSpec, labTestSpec]) app.use(routes.router(resourceRoutes(spec, ctx)));
  app.use(routes.router(interactionRoutes(ctx))); // the CSV import, beside the table's generic CRUD
  app.use(routes.router(resourceRoutes(drugInteractionSpec, ctx)));
  app.use(routes.router(deviceRoutes(ctx)));
  app.use(routes.router(familyRoutes(ctx)));
  app.use(routes.router(patientReportRoutes(ctx)));
  app.use(routes.router(reportRoutes(ctx)));
  app.use(routes.router(admissionRoutes(ctx)));
  app.use(routes.router(scheduleRoutes(ctx)));
  app.use(routes.router(appointmentRoutes(ctx)));
  app.use(routes.router(queueRoutes(ctx)));
  app.use(routes.router(billingRoutes(ctx)));
  app.use(routes.router(prescriptionRoutes(ctx)));
  app.use(routes.router(referralRoutes(ctx)));
  app.use(routes.router(labOrderRoutes(ctx)));
  app.use(routes.router(notificationRoutes(ctx)));
  app.use(routes.router(analyticsRoutes(ctx)));
  app.use('/api', (req, _res, next) => next(Errors.notFound(`endpoint ${req.method} ${req.originalUrl.split('?')[0]}`)));

  // The dashboard: the Vite build when present, otherwise the plain fallback page.
  const staticDir = existsSync(WEB_DIST) ? WEB_DIST : WEB_PUBLIC;
  app.use(express.static(staticDir, { index: 'index.html', maxAge: '1h' }));
  app.use((req, res, next) => {
    if (req.method !== 'GET' || !req.accepts('html')) return next(Errors.notFound(`${req.method} ${req.path}`));
    res.sendFile('index.html', { root: staticDir });
  });

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    let e: AppError;
    if (err instanceof AppError) e = err;
    else if (err?.type === 'entity.parse.failed') e = Errors.badJson(err.message);
    else if (err?.type === 'entity.too.large') e = Errors.tooLarge(`request body larger than ${err.limit} bytes`);
    else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') e = Errors.validation(err.message);
    else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) e = new AppError('ERR_BAD_REQUEST', err.status, String(err.message ?? 'bad request'));
    else {
      (req.log ?? ctx.log).error({ err }, 'unhandled error');
      e = new AppError('ERR_INTERNAL', 500, 'internal error');
    }
    if (e.status >= 500 && e.code !== 'ERR_INTERNAL') (req.log ?? ctx.log).warn({ code: e.code }, e.message);
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
  };
  app.use(onError);
  return app;
}
