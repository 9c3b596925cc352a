// Devices: provision (secret shown once), list with live stats, assign to / unassign from a patient.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { uuid } from './validate.ts';
import { defineRoute, type Route } from './route.ts';
import { Errors, fail } from '../errors.ts';
import { generateDeviceSecret as generateSecret, hashDeviceSecret } from '../../broker/device-secrets.ts';
import { getDevice, getPatient, insertDevice, listDevices, publicDevice, updateDevice, type DeviceWithHash } from '../../db/records.ts';
import { DEVICE_ID } from '../../broker/topics.ts';
import { refusal } from '../records/repository.ts';

const deviceId = z.string().regex(DEVICE_ID, 'must be 1–64 characters of A–Z, a–z, 0–9, _ . -');
/** A device's path parameter: its own id grammar, not a UUID. */
const deviceParams = z.strictObject({ id: deviceId });
const createSchema = z.strictObject({
  id: deviceId.optional(),
  label: z.string().trim().max(200).nullable().optional(),
  patientId: uuid.nullable().optional(),
});
const updateSchema = z
  .strictObject({ patientId: uuid.nullable().optional(), label: z.string().trim().max(200).nullable().optional() })
  .refine((b) => b.patientId !== undefined || b.label !== undefined, { message: 'give patientId (or null to unassign) and/or label' });

export function deviceRoutes(ctx: AppContext): Route[] {
  const tag = 'devices';

  const withStats = (d: DeviceWithHash) => {
    const s = ctx.registry.statsOf(d.id);
    return {
      ...publicDevice(d),
      status: ctx.live.deviceStatusOf(d.id) === 'unknown' ? d.status : ctx.live.deviceStatusOf(d.id),
      stats: { readings: s.readings, refused: s.refused, seqGaps: s.seqGaps, lastSeenAt: s.lastSeenAt === null ? d.lastSeenAt : new Date(s.lastSeenAt).toISOString() },
    };
  };

  const checkPatient = async (patientId: string | null | undefined) => {
    if (patientId && !(await ctx.patients.getOrLoad(patientId, (id) => getPatient(ctx.db.driver, id)))) throw Errors.validation(`body.patientId: no active patient '${patientId}'`);
  };

  return [
    defineRoute({
      method: 'post',
      path: '/api/devices',
      tag,
      summary: 'Provision a device; its secret is returned once',
      permission: 'devices:manage',
      body: createSchema,
      status: 201,
      audit: { action: 'create', resource: 'device' },
      async handler({ body }) {
        await checkPatient(body.patientId);
        const id = body.id ?? `dev-${randomBytes(5).toString('hex')}`;
        const secret = generateSecret();
        const d = await insertDevice(ctx.db.driver, { id, label: body.label ?? null, secretHash: hashDeviceSecret(secret), patientId: body.patientId ?? null }).catch((e) =>
          refusal(e, 'device', { devices_pkey: () => fail('ERR_DUPLICATE', `device '${id}' exists`) }),
        );
        ctx.registry.upsert({ id: d.id, secretHash: d.secretHash, patientId: d.patientId });
        // The secret is shown this once; only its hash is kept.
        return { ...publicDevice(d), secret };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices',
      tag,
      summary: 'Devices with status and ingest statistics',
      permission: 'devices:read',
      async handler() {
        const items = (await listDevices(ctx.db.driver)).map(withStats);
        return { items, total: items.length };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/devices/{id}',
      tag,
      summary: 'One device',
      permission: 'devices:read',
      params: deviceParams,
      async handler({ params: { id } }) {
        const d = await getDevice(ctx.db.driver, id);
        if (!d) throw Errors.notFound('device', id);
        return withStats(d);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/devices/{id}',
      tag,
      summary: 'Assign to a patient (or null to unassign), relabel',
      permission: 'devices:assign',
      params: deviceParams,
      body: updateSchema,
      async handler({ params: { id }, body, audit }) {
        await checkPatient(body.patientId);
        const before = await getDevice(ctx.db.driver, id);
        if (!before) throw Errors.notFound('device', id);
        const d = (await updateDevice(ctx.db.driver, id, body))!;
        ctx.registry.upsert({ id: d.id, secretHash: d.secretHash, patientId: d.patientId });
        // The action and the patient before and after: only the handler knows them.
        audit(body.patientId === null ? 'unassign' : 'update', 'device', d.id, d.patientId ?? before.patientId, { from: before.patientId, to: d.patientId });
        return withStats(d);
      },
    }),
  ];
}
