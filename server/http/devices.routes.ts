// Devices: provision (secret shown once), list with live stats, assign to / unassign from a patient.
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, handler } from './context.ts';
import { parse, uuid } from './validate.ts';
import { Errors } from '../errors.ts';
import { generateDeviceSecret as generateSecret, hashDeviceSecret } from '../../broker/device-secrets.ts';
import { getDevice, insertDevice, listDevices, publicDevice, updateDevice, type DeviceWithHash } from '../../db/records.ts';
import { DbError } from '../../db/driver.ts';
import { DEVICE_ID } from '../../broker/topics.ts';
import { describeRoute } from './openapi.ts';

const deviceId = z.string().regex(DEVICE_ID, 'must be 1–64 characters of A–Z, a–z, 0–9, _ . -');
const createSchema = z.strictObject({
  id: deviceId.optional(),
  label: z.string().trim().max(200).nullable().optional(),
  patientId: uuid.nullable().optional(),
});
const updateSchema = z
  .strictObject({ patientId: uuid.nullable().optional(), label: z.string().trim().max(200).nullable().optional() })
  .refine((b) => b.patientId !== undefined || b.label !== undefined, { message: 'give patientId (or null to unassign) and/or label' });

export function deviceRoutes(ctx: AppContext): Router {
  const r = Router();
  const tag = 'devices';
  describeRoute({ method: 'post', path: '/api/devices', tag, summary: 'Provision a device; its secret is returned once', permission: 'devices:manage', body: createSchema, status: 201 });
  describeRoute({ method: 'get', path: '/api/devices', tag, summary: 'Devices with status and ingest statistics', permission: 'devices:read' });
  describeRoute({ method: 'get', path: '/api/devices/{id}', tag, summary: 'One device', permission: 'devices:read' });
  describeRoute({ method: 'put', path: '/api/devices/{id}', tag, summary: 'Assign to a patient (or null to unassign), relabel', permission: 'devices:assign', body: updateSchema });

  const withStats = (d: DeviceWithHash) => {
    const s = ctx.registry.statsOf(d.id);
    return {
      ...publicDevice(d),
      status: ctx.live.deviceStatusOf(d.id) === 'unknown' ? d.status : ctx.live.deviceStatusOf(d.id),
      stats: { readings: s.readings, refused: s.refused, seqGaps: s.seqGaps, lastSeenAt: s.lastSeenAt === null ? d.lastSeenAt : new Date(s.lastSeenAt).toISOString() },
    };
  };

  const checkPatient = (patientId: string | null | undefined) => {
    if (patientId && !ctx.patients.get(patientId)) throw Errors.validation(`body.patientId: no active patient '${patientId}'`);
  };

  r.post(
    '/',
    allow('devices:manage'),
    handler(async (req, res) => {
      const body = parse(createSchema, req.body, 'body');
      checkPatient(body.patientId);
      const id = body.id ?? `dev-${randomBytes(5).toString('hex')}`;
      const secret = generateSecret();
      try {
        const d = await insertDevice(ctx.db.driver, { id, label: body.label ?? null, secretHash: hashDeviceSecret(secret), patientId: body.patientId ?? null });
        ctx.registry.upsert({ id: d.id, secretHash: d.secretHash, patientId: d.patientId });
        ctx.audit(auditOf(req, 'create', 'device', d.id, d.patientId));
        // The secret is shown this once; only its hash is kept.
        res.status(201).json({ ...publicDevice(d), secret });
      } catch (err) {
        if (err instanceof DbError && err.code === '23505') throw Errors.conflict(`device '${id}' exists`);
        throw err;
      }
    }),
  );

  r.get(
    '/',
    allow('devices:read'),
    handler(async (_req, res) => {
      const items = (await listDevices(ctx.db.driver)).map(withStats);
      res.json({ items, total: items.length });
    }),
  );

  r.get(
    '/:id',
    allow('devices:read'),
    handler(async (req, res) => {
      const id = parse(z.strictObject({ id: deviceId }), { id: req.params.id }, 'params').id;
      const d = await getDevice(ctx.db.driver, id);
      if (!d) throw Errors.notFound('device', id);
      res.json(withStats(d));
    }),
  );

  r.put(
    '/:id',
    allow('devices:assign'),
    handler(async (req, res) => {
      const id = parse(z.strictObject({ id: deviceId }), { id: req.params.id }, 'params').id;
      const body = parse(updateSchema, req.body, 'body');
      checkPatient(body.patientId);
      const before = await getDevice(ctx.db.driver, id);
      if (!before) throw Errors.notFound('device', id);
      const d = (await updateDevice(ctx.db.driver, id, body))!;
      ctx.registry.upsert({ id: d.id, secretHash: d.secretHash, patientId: d.patientId });
      ctx.audit(auditOf(req, body.patientId === null ? 'unassign' : 'update', 'device', d.id, d.patientId ?? before.patientId, { from: before.patientId, to: d.patientId }));
      res.json(withStats(d));
    }),
  );

  return r;
}
