// Family links, mounted under /api/patients: GET/POST /{id}/family, DELETE /{id}/family/{memberId}.
// A link is one-way: the account of patient {id} (a parent, a carer) sees member {memberId}'s
// records (server/records/scope.ts); the member's account does not see {id}'s. Link both ways for
// mutual access. Set by the desk, never by the patient: it widens what an account may read.
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { parse, uuid } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import { getPatient } from '../../db/records.ts';
import { dbConflict } from './resource.ts';
import { assertPatientVisible } from './scope.ts';

const linkSchema = z.strictObject({
  memberId: uuid,
  relation: z.string().trim().min(1, 'required').max(50),
});

export function familyRoutes(ctx: AppContext): Router {
  const r = Router();
  const params = (p: unknown) => parse(z.object({ id: uuid, memberId: uuid.optional() }), p, 'params');
  const livePatient = async (id: string) => {
    const p = await getPatient(ctx.db.driver, id);
    if (!p) throw Errors.notFound('patient', id);
    if (p.archivedAt) throw Errors.conflict(`patient '${id}' is archived`);
    return p;
  };

  describeRoute({ method: 'get', path: '/api/patients/{id}/family', tag: 'patients', summary: "A patient's linked family members", permission: 'family:read' });
  r.get(
    '/:id/family',
    allow('family:read'),
    handler(async (req, res) => {
      const { id } = params(req.params);
      await assertPatientVisible(ctx, req.user!, id);
      const { rows } = await ctx.db.driver.query<{ member_id: string; relation: string; name: string }>(
        `SELECT f.member_id, f.relation, p.name FROM patient_family f JOIN patients p ON p.id = f.member_id
         WHERE f.patient_id = $1 ORDER BY p.name`,
        [id],
      );
      ctx.audit(auditOf(req, 'list', 'family link', id, id, { count: rows.length }));
      res.json({ items: rows.map((x) => ({ patientId: id, memberId: x.member_id, relation: x.relation, memberName: x.name })) });
    }),
  );

  describeRoute({ method: 'post', path: '/api/patients/{id}/family', tag: 'patients', summary: "Link a family member: patient {id}'s account may then see the member's records", permission: 'family:manage', body: linkSchema, status: 201 });
  r.post(
    '/:id/family',
    allow('family:manage'),
    handler(async (req, res) => {
      const { id } = params(req.params);
      const body = parse(linkSchema, req.body, 'body');
      if (body.memberId === id) throw Errors.validation('body.memberId: a patient cannot be their own family member', [{ path: 'body.memberId', message: 'a patient cannot be their own family member' }]);
      await livePatient(id);
      await livePatient(body.memberId);
      await ctx.db.driver
        .query('INSERT INTO patient_family (patient_id, member_id, relation) VALUES ($1, $2, $3)', [id, body.memberId, body.relation])
        .catch((e) => dbConflict(e, 'family link'));
      ctx.audit(auditOf(req, 'create', 'family link', `${id}:${body.memberId}`, id, { memberId: body.memberId, relation: body.relation }));
      res.status(201).json({ patientId: id, memberId: body.memberId, relation: body.relation });
    }),
  );

  describeRoute({ method: 'delete', path: '/api/patients/{id}/family/{memberId}', tag: 'patients', summary: 'Remove a family link', permission: 'family:manage' });
  r.delete(
    '/:id/family/:memberId',
    allow('family:manage'),
    handler(async (req, res) => {
      const { id, memberId } = params(req.params);
      const { rows } = await ctx.db.driver.query<{ relation: string }>(
        'DELETE FROM patient_family WHERE patient_id = $1 AND member_id = $2 RETURNING relation',
        [id, memberId!],
      );
      if (!rows[0]) throw Errors.notFound('family link', `${id}:${memberId}`);
      ctx.audit(auditOf(req, 'delete', 'family link', `${id}:${memberId}`, id, { memberId, relation: rows[0].relation }));
      res.json({ patientId: id, memberId, relation: rows[0].relation });
    }),
  );
  return r;
}
