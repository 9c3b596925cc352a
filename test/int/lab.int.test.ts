// Lab orders and results on each database driver, against the real server: the catalogue kept by
// the lab, a doctor's order collected by a nurse, resulted by the lab (each result flagged from the
// catalogue) and released to the patient; a critical result raising a high-priority alarm through
// the monitoring engine — in GET /api/alerts as soon as the results PUT answers, pushed live to
// the ward and the patient's room over Socket.IO, escalated, acknowledged by a nurse; the patient
// (and a linked family account) seeing only released results of its own; wrong roles, illegal
// transitions and bad bodies refused with precise errors; every step audited.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { collect, connectSocket, eventually, startStack, type DbKind, type LiveSocket, type Stack } from '../helpers/stack.ts';
import type { AlertEvent } from '../../server/domain/events.ts';
import type { LabOrder } from '../../server/domain/lab.ts';

describe.each<DbKind>(['pglite', 'postgres'])('lab orders on %s', (kind) => {
  let stack: Stack;
  const t = { doctor: '', doctor2: '', nurse: '', lab: '', desk: '', kiosk: '', patient: '' };
  const ids = { doctor: '', ward: '', own: '', member: '', other: '' };
  const tests = { k: '', na: '', hb: '' };
  const sockets: LiveSocket[] = [];

  const user = async (role: string, extra: Record<string, unknown> = {}) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@lab.test`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: `${role} user`, password: 'long-enough-password', role, ...extra });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id as string, token: await stack.login(email, 'long-enough-password') };
  };
  const order = (body: Record<string, unknown>, token = t.doctor) => stack.api('POST', '/api/lab-orders', { priority: 'routine', ...body }, token);
  const step = (id: string, what: 'collect' | 'results' | 'release', token: string, body?: unknown) => stack.api('PUT', `/api/lab-orders/${id}/${what}`, body, token);
  /** An order for `patientId` taken to `resulted` with these values (by test key). */
  const resulted = async (patientId: string, values: Partial<Record<keyof typeof tests, number>>): Promise<LabOrder> => {
    const keys = Object.keys(values) as (keyof typeof tests)[];
    const o = await order({ patientId, tests: keys.map((k) => tests[k]) });
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    expect((await step(o.body.id, 'collect', t.nurse)).status).toBe(200);
    const r = await step(o.body.id, 'results', t.lab, { results: keys.map((k) => ({ testId: tests[k], value: values[k] })) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'), { ESCALATE_AFTER_S: '5' });
    const doctor = await user('doctor');
    t.doctor = doctor.token;
    ids.doctor = doctor.id;
    t.doctor2 = (await user('doctor')).token;
    t.nurse = (await user('nurse')).token;
    t.lab = (await user('lab')).token;
    t.desk = (await user('front-desk')).token;
    t.kiosk = (await user('kiosk', { wards: ['LB'] })).token;
    // The ward patient whose critical result alarms on the ward display.
    ids.ward = (await stack.api('POST', '/api/patients', { name: 'Ward Lab', ward: 'LB', bed: '1' })).body.id;
    // A patient account, a family member it is linked to, and someone else.
    const pat = await stack.api('POST', '/api/auth/register', { email: `pat-${kind}@lab.test`, name: 'Pat Lab', password: 'patient-password-1' }, null);
    ids.own = pat.body.patientId;
    t.patient = await stack.login(`pat-${kind}@lab.test`, 'patient-password-1');
    ids.member = (await stack.api('POST', '/api/patients', { name: 'Kid Lab' })).body.id;
    expect((await stack.api('POST', `/api/patients/${ids.own}/family`, { memberId: ids.member, relation: 'child' })).status).toBe(201);
    ids.other = (await stack.api('POST', '/api/patients', { name: 'Other Lab' })).body.id;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await stack?.close();
  });

  it('keeps a catalogue managed by the lab, with its ranges checked', async () => {
    // Serum potassium (LOINC 2823-3), sodium (2951-2), haemoglobin (718-7, no critical limits here).
    const k = await stack.api('POST', '/api/lab-tests', { code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 }, t.lab);
    expect(k.status, JSON.stringify(k.body)).toBe(201);
    expect(k.body).toMatchObject({ code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5, archivedAt: null });
    tests.k = k.body.id;
    tests.na = (await stack.api('POST', '/api/lab-tests', { code: '2951-2', name: 'Sodium', unit: 'mmol/L', specimen: 'serum', referenceLow: 135, referenceHigh: 145, criticalLow: 120, criticalHigh: 160 })).body.id; // an admin
    tests.hb = (await stack.api('POST', '/api/lab-tests', { code: '718-7', name: 'Haemoglobin', unit: 'g/L', specimen: 'whole blood', referenceLow: 130, referenceHigh: 170 }, t.lab)).body.id;
    expect(tests.na && tests.hb).toBeTruthy();

    // Who keeps it, who reads it.
    expect((await stack.api('POST', '/api/lab-tests', { code: 'X-1', name: 'X', specimen: 'serum' }, t.doctor)).status).toBe(403);
    expect((await stack.api('POST', '/api/lab-tests', { code: 'X-1', name: 'X', specimen: 'serum' }, t.nurse)).status).toBe(403);
    const listed = await stack.api('GET', '/api/lab-tests?q=potass', undefined, t.doctor);
    expect(listed).toMatchObject({ status: 200, body: { items: [{ id: tests.k, code: '2823-3' }] } });
    expect((await stack.api('GET', '/api/lab-tests', undefined, t.patient)).status).toBe(403);
    expect((await stack.api('GET', '/api/lab-tests', undefined, t.desk)).status).toBe(403);

    // The ranges' rules, named.
    const bad = await stack.api('POST', '/api/lab-tests', { code: 'K-2', name: 'K', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 3.5 }, t.lab);
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: 'body.criticalLow: must be below referenceLow (3.5): a critical value lies outside the reference range, got 3.5' } } });
    const inverted = await stack.api('POST', '/api/lab-tests', { code: 'K-2', name: 'K', specimen: 'serum', referenceLow: 5, referenceHigh: 4 }, t.lab);
    expect(inverted.body.error.message).toBe('body.referenceLow: must be at most referenceHigh (4), got 5');
    const code = await stack.api('POST', '/api/lab-tests', { code: 'K 2', name: 'K', specimen: 'serum' }, t.lab);
    expect(code.body.error.message).toMatch(/^body\.code: must be letters, digits and \. _ : -/);
    // An update judged with the stored values: the database's named rule answers.
    const merged = await stack.api('PUT', `/api/lab-tests/${tests.k}`, { criticalHigh: 5.0 }, t.lab);
    expect(merged).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: "body: criticalHigh must be above the reference range (with the test's stored values)" } } });
    const dup = await stack.api('POST', '/api/lab-tests', { code: '2823-3', name: 'Potassium again', specimen: 'plasma' }, t.lab);
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 'ERR_DUPLICATE', message: 'a current lab test already has this code: archive it first or use another code' } } });
  });

  it('runs an order from the doctor through collection and results to the patient, flagged and audited', async () => {
    const o = await order({ patientId: ids.own, tests: [tests.k, tests.na, tests.hb], priority: 'urgent', note: 'fasting sample' });
    expect(o.status, JSON.stringify(o.body)).toBe(201);
    expect(o.body).toMatchObject({ patientId: ids.own, status: 'ordered', priority: 'urgent', note: 'fasting sample', orderedBy: ids.doctor, collectedAt: null, resultedAt: null, releasedAt: null });
    expect(o.body.items.map((i: { code: string; name: string; unit: string; specimen: string; value: null; flag: null }) => [i.code, i.name, i.unit, i.specimen, i.value, i.flag])).toEqual([
      ['2823-3', 'Potassium', 'mmol/L', 'serum', null, null],
      ['2951-2', 'Sodium', 'mmol/L', 'serum', null, null],
      ['718-7', 'Haemoglobin', 'g/L', 'whole blood', null, null],
    ]);
    const id = o.body.id;
    // The lab sees what is waiting for it.
    const waiting = await stack.api('GET', '/api/lab-orders?status=ordered', undefined, t.lab);
    expect(waiting.body.items.map((x: { id: string }) => x.id)).toContain(id);

    const collected = await step(id, 'collect', t.nurse);
    expect(collected).toMatchObject({ status: 200, body: { status: 'collected' } });
    expect(collected.body.collectedAt).toBeTruthy();

    const r = await step(id, 'results', t.lab, {
      results: [
        { testId: tests.hb, value: 176 },
        { testId: tests.k, value: 4.2 },
        { testId: tests.na, value: 128, comment: 'slightly haemolysed' },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe('resulted');
    expect(r.body.items.map((i: { code: string; value: number; flag: string; comment: string | null; referenceLow: number; referenceHigh: number }) => [i.code, i.value, i.flag, i.comment, i.referenceLow, i.referenceHigh])).toEqual([
      ['2823-3', 4.2, 'N', null, 3.5, 5.1],
      ['2951-2', 128, 'L', 'slightly haemolysed', 135, 145],
      ['718-7', 176, 'H', null, 130, 170],
    ]);
    // No critical value: no alarm (an alarm would be committed before the 200).
    const alerts = await stack.api('GET', `/api/alerts?patientId=${ids.own}`);
    expect(alerts.body.items).toEqual([]);

    // Not the patient's to see yet.
    expect((await stack.api('GET', `/api/lab-orders/${id}`, undefined, t.patient)).status).toBe(404);
    expect((await stack.api('GET', '/api/lab-orders', undefined, t.patient)).body.items.map((x: { id: string }) => x.id)).not.toContain(id);

    const released = await step(id, 'release', t.doctor);
    expect(released).toMatchObject({ status: 200, body: { status: 'released', releasedBy: ids.doctor } });
    const seen = await stack.api('GET', `/api/lab-orders/${id}`, undefined, t.patient);
    expect(seen).toMatchObject({ status: 200, body: { id, status: 'released' } });
    expect(seen.body.items.map((i: { flag: string }) => i.flag)).toEqual(['N', 'L', 'H']);
    const mine = await stack.api('GET', `/api/lab-orders?patientId=${ids.own}`, undefined, t.patient);
    expect(mine.body.items.map((x: { id: string }) => x.id)).toEqual([id]);

    // Every step on the patient's audit trail, the patient's own read included.
    const trail = await eventually(async () => {
      const a = await stack.api('GET', `/api/audit?patientId=${ids.own}&limit=1000`);
      const lab = a.body.items.filter((e: { resource: string }) => e.resource === 'lab order');
      return lab.some((e: { actorRole: string; action: string }) => e.actorRole === 'patient' && e.action === 'read') ? lab : null;
    }, 10_000, 'lab order audit');
    const actions = trail.map((e: { action: string; actorRole: string }) => `${e.actorRole} ${e.action}`);
    expect(actions).toEqual(expect.arrayContaining(['doctor create', 'nurse collect', 'lab result', 'doctor release', 'patient read', 'patient list']));
    const result = trail.find((e: { action: string }) => e.action === 'result');
    expect(result).toMatchObject({ resourceId: id, patientId: ids.own, details: { critical: 0, flags: [{ code: '2823-3', flag: 'N' }, { code: '2951-2', flag: 'L' }, { code: '718-7', flag: 'H' }] } });
  });

  it('raises a high-priority alarm on a critical result: stored by the 200, live on the ward and the panel, escalated, acknowledged', async () => {
    const ward = await connectSocket(stack.base, t.kiosk);
    const panel = await connectSocket(stack.base, t.nurse);
    sockets.push(ward, panel);
    const onWard = collect(ward, 'alert');
    const onPanel = collect(panel, 'alert');
    const escalations = collect(panel, 'escalation');
    expect((await ward.emitWithAck('subscribe', { ward: 'LB' })).ok).toBe(true);
    expect((await panel.emitWithAck('subscribe', { patientId: ids.ward })).ok).toBe(true);

    const o = await resulted(ids.ward, { k: 7.1, na: 140 });
    expect(o.items.map((i) => [i.code, i.flag])).toEqual([
      ['2823-3', 'HH'],
      ['2951-2', 'N'],
    ]);
    // Committed before the answer: read back at once, no waiting.
    const listed = await stack.api('GET', `/api/alerts?patientId=${ids.ward}&state=open`, undefined, t.nurse);
    expect(listed.body.items).toHaveLength(1);
    const alarm = listed.body.items[0];
    expect(alarm).toMatchObject({
      key: `lab-critical:${o.id}:${tests.k}`,
      kind: 'lab-critical',
      category: 'physiological',
      priority: 'high',
      parameter: '2823-3',
      value: 7.1,
      limit: 6.5,
      rule: 'Potassium > 6.5 mmol/L (critical high)',
      message: 'Critical lab result: Potassium 7.1 mmol/L (HH; critical above 6.5 mmol/L): tell the responsible clinician now',
      latching: true,
      ward: 'LB',
    });
    expect(alarm.state).toBe('active');

    // Live on the ward display and on the patient panel, like every alarm.
    await eventually(() => onWard.find((e: AlertEvent) => e.id === alarm.id), 5000, 'ward display alert');
    await eventually(() => onPanel.find((e: AlertEvent) => e.id === alarm.id), 5000, 'patient panel alert');
    // Latched from the start: the report is the event, the alarm waits for a clinician.
    expect(alarm.conditionActive).toBe(false);
    // Nobody answers: escalated after ESCALATE_AFTER_S, like every high-priority alarm.
    const esc = await eventually(() => escalations.find((e) => e.alarm.id === alarm.id), 15_000, 'escalation');
    expect(esc).toMatchObject({ level: 1, role: 'doctor' });

    // Neither the kiosk nor the lab may act on it; a nurse acknowledges it, and that ends it.
    expect((await stack.api('POST', `/api/alerts/${alarm.id}/ack`, {}, t.kiosk)).status).toBe(403);
    expect((await stack.api('POST', `/api/alerts/${alarm.id}/ack`, {}, t.lab)).status).toBe(403);
    const ack = await stack.api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'Dr informed, repeat K+ sent' }, t.nurse);
    expect(ack).toMatchObject({ status: 200, body: { id: alarm.id, state: 'resolved' } });
    await eventually(() => onWard.find((e: AlertEvent) => e.id === alarm.id && e.state === 'resolved'), 5000, 'ward sees it resolved');
    const detail = await eventually(async () => {
      const r = await stack.api('GET', `/api/alerts/${alarm.id}`, undefined, t.nurse);
      return r.body.transitions?.length >= 3 ? r.body : null;
    }, 5000, 'transitions');
    expect(detail.transitions.map((x: { from: string | null; to: string; comment: string }) => [x.from, x.to, x.comment])).toEqual([
      [null, 'active', 'condition met: Potassium > 6.5 mmol/L (critical high)'],
      ['active', 'acknowledged', 'Dr informed, repeat K+ sent'],
      ['acknowledged', 'resolved', 'acknowledged after its condition cleared'],
    ]);
    expect(detail.notifications.some((n: { level: number; channel: string }) => n.level === 1 && n.channel === 'socket')).toBe(true);

    // A critical low on the next order: an alarm of its own.
    const low = await resulted(ids.ward, { na: 112 });
    const open = await stack.api('GET', `/api/alerts?patientId=${ids.ward}&state=open`, undefined, t.nurse);
    expect(open.body.items.map((a: { key: string; rule: string }) => [a.key, a.rule])).toEqual([[`lab-critical:${low.id}:${tests.na}`, 'Sodium < 120 mmol/L (critical low)']]);
    // It outlives a restart, latched, and the restored engine still acts on it.
    await stack.restart();
    const restored = await stack.api('GET', `/api/alerts/${open.body.items[0].id}`, undefined, t.nurse);
    expect(restored.body).toMatchObject({ state: 'active', kind: 'lab-critical', conditionActive: false, latching: true });
    // A clinician may also resolve it outright: nothing is being measured that would re-alarm.
    const resolved = await stack.api('POST', `/api/alerts/${open.body.items[0].id}/resolve`, { comment: 'known, being treated' }, t.doctor);
    expect(resolved).toMatchObject({ status: 200, body: { state: 'resolved' } });
  });

  it('shows a patient account only released results of its own and its family, never another patient’s', async () => {
    const own = await resulted(ids.own, { k: 5.4 });
    const kid = await resulted(ids.member, { hb: 101 });
    const other = await resulted(ids.other, { na: 150 });
    for (const o of [own, kid, other]) expect((await step(o.id, 'release', t.lab)).status).toBe(200); // the lab may release too
    const notYet = await resulted(ids.own, { hb: 150 });

    const listed = await stack.api('GET', '/api/lab-orders?limit=1000', undefined, t.patient);
    const seen = listed.body.items.map((x: { id: string }) => x.id);
    expect(seen).toEqual(expect.arrayContaining([own.id, kid.id]));
    expect(seen).not.toContain(other.id);
    expect(seen).not.toContain(notYet.id);
    expect(listed.body.items.every((x: { status: string; patientId: string }) => x.status === 'released' && [ids.own, ids.member].includes(x.patientId))).toBe(true);
    expect((await stack.api('GET', `/api/lab-orders/${kid.id}`, undefined, t.patient))).toMatchObject({ status: 200, body: { patientId: ids.member, items: [{ flag: 'L' }] } });
    // Someone else's, and one not released: the same 404 as a missing one.
    for (const id of [other.id, notYet.id, randomUUID()]) {
      expect(await stack.api('GET', `/api/lab-orders/${id}`, undefined, t.patient)).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND', message: `lab order '${id}' not found` } } });
    }
    // Filtering on someone else does not widen the scope.
    expect((await stack.api('GET', `/api/lab-orders?patientId=${ids.other}`, undefined, t.patient)).body.items).toEqual([]);
    expect((await stack.api('GET', `/api/lab-orders?patientId=${ids.own}&status=resulted`, undefined, t.patient)).body.items).toEqual([]);
  });

  it('refuses the wrong roles', async () => {
    const o = await order({ patientId: ids.other, tests: [tests.k] });
    const id = o.body.id;
    const forbidden = async (r: Promise<{ status: number; body: any }>, message: RegExp) => {
      const got = await r;
      expect(got.status, JSON.stringify(got.body)).toBe(403);
      expect(got.body.error.message).toMatch(message);
    };
    await forbidden(order({ patientId: ids.other, tests: [tests.k] }, t.nurse), /role 'nurse' lacks permission 'lab-orders:create'/);
    await forbidden(order({ patientId: ids.other, tests: [tests.k] }, t.lab), /lacks permission 'lab-orders:create'/);
    await forbidden(order({ patientId: ids.own, tests: [tests.k] }, t.patient), /lacks permission/);
    await forbidden(stack.api('GET', '/api/lab-orders', undefined, t.desk), /role 'front-desk' lacks permission 'lab-orders:read'/);
    await forbidden(stack.api('GET', '/api/lab-orders', undefined, t.kiosk), /lacks permission 'lab-orders:read'/);
    await forbidden(step(id, 'collect', t.doctor), /role 'doctor' lacks permission 'lab-orders:collect'/);
    await forbidden(step(id, 'collect', t.patient), /lacks permission 'lab-orders:collect'/);
    expect((await step(id, 'collect', t.lab)).status).toBe(200); // the lab may collect too
    await forbidden(step(id, 'results', t.nurse, { results: [{ testId: tests.k, value: 4 }] }), /role 'nurse' lacks permission 'lab-orders:result'/);
    await forbidden(step(id, 'results', t.doctor, { results: [{ testId: tests.k, value: 4 }] }), /lacks permission 'lab-orders:result'/);
    expect((await step(id, 'results', t.lab, { results: [{ testId: tests.k, value: 4 }] })).status).toBe(200);
    await forbidden(step(id, 'release', t.nurse), /role 'nurse' lacks permission 'lab-orders:release'/);
    await forbidden(step(id, 'release', t.doctor2), /^a doctor may only release the results of their own orders/);
    expect((await step(id, 'release', t.doctor)).status).toBe(200);
  });

  it('refuses illegal transitions with the order’s state in the message', async () => {
    const o = (await order({ patientId: ids.other, tests: [tests.k] })).body;
    const conflict = async (r: Promise<{ status: number; body: any }>, message: string | RegExp) => {
      const got = await r;
      expect(got, JSON.stringify(got.body)).toMatchObject({ status: 409, body: { error: { code: 'ERR_ILLEGAL_TRANSITION' } } });
      expect(got.body.error.message).toMatch(message);
    };
    const result = { results: [{ testId: tests.k, value: 4 }] };
    await conflict(step(o.id, 'results', t.lab, result), `lab order '${o.id}' has no specimen yet: collect it first (PUT /api/lab-orders/${o.id}/collect)`);
    await conflict(step(o.id, 'release', t.lab), `lab order '${o.id}' has no results to release yet (status 'ordered')`);
    expect((await step(o.id, 'collect', t.nurse)).status).toBe(200);
    await conflict(step(o.id, 'collect', t.nurse), new RegExp(`^lab order '${o.id}' is already collected \\(at \\d{4}-`));
    await conflict(step(o.id, 'release', t.doctor), `lab order '${o.id}' has no results to release yet (status 'collected')`);
    expect((await step(o.id, 'results', t.lab, result)).status).toBe(200);
    await conflict(step(o.id, 'results', t.lab, result), /is already resulted \(at .*\): results are entered once$/);
    await conflict(step(o.id, 'collect', t.lab), /is already resulted \(at .*\): its specimen was collected \(at /);
    expect((await step(o.id, 'release', t.doctor)).status).toBe(200);
    await conflict(step(o.id, 'release', t.lab), /is already released \(at /);
    // Unknown order: 404, not 409.
    const missing = randomUUID();
    expect(await step(missing, 'collect', t.nurse)).toMatchObject({ status: 404, body: { error: { message: `lab order '${missing}' not found` } } });
  });

  it('refuses bad bodies and queries, naming the field', async () => {
    const invalid = async (r: Promise<{ status: number; body: any }>, message: string | RegExp) => {
      const got = await r;
      expect(got, JSON.stringify(got.body)).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
      expect(got.body.error.message).toMatch(message);
    };
    await invalid(order({ patientId: ids.other, tests: [] }), 'body.tests: order at least one test');
    await invalid(order({ patientId: ids.other, tests: [tests.k, tests.na, tests.k] }), `body.tests.2: test '${tests.k}' is already at index 0`);
    await invalid(order({ patientId: ids.other, tests: [tests.k], priority: 'stat' }), 'body.priority: must be one of routine, urgent');
    await invalid(order({ patientId: 'nobody', tests: [tests.k] }), 'body.patientId: must be a UUID');
    await invalid(order({ patientId: ids.other, tests: [tests.k], colour: 'red' }), /^body: Unrecognized key: "colour"/);
    const ghost = randomUUID();
    await invalid(order({ patientId: ghost, tests: [tests.k] }), `body.patientId: patient '${ghost}' not found`);
    await invalid(order({ patientId: ids.other, tests: [tests.k, ghost] }), `body.tests: lab test(s) not found: ${ghost}`);
    // An archived test is no longer ordered.
    const old = (await stack.api('POST', '/api/lab-tests', { code: 'OLD-1', name: 'Old test', specimen: 'urine' }, t.lab)).body.id;
    expect((await stack.api('DELETE', `/api/lab-tests/${old}`, undefined, t.lab)).status).toBe(200);
    await invalid(order({ patientId: ids.other, tests: [old] }), `body.tests: lab test(s) '${old}' (Old test) archived: order a current test`);

    const o = (await order({ patientId: ids.other, tests: [tests.k, tests.na] })).body;
    expect((await step(o.id, 'collect', t.nurse)).status).toBe(200);
    await invalid(step(o.id, 'results', t.lab, { results: [{ testId: tests.k, value: 4 }] }), `body.results: no result for Sodium ('${tests.na}'): every test of the order is resulted at once`);
    await invalid(step(o.id, 'results', t.lab, { results: [{ testId: tests.k, value: '4.1' }, { testId: tests.na, value: 140 }] }), 'body.results.0.value: must be a number (text findings go in comment)');
    await invalid(step(o.id, 'results', t.lab, { results: [{ testId: tests.k, value: 4 }, { testId: tests.na, value: 140 }, { testId: tests.hb, value: 150 }] }), `body.results: test(s) not on this order: ${tests.hb}`);
    await invalid(step(o.id, 'results', t.lab, { results: [{ testId: tests.k, value: 4 }, { testId: tests.k, value: 4 }] }), `body.results.1: test '${tests.k}' is already at index 0`);
    await invalid(step(o.id, 'results', t.lab, {}), 'body.results: ');
    await invalid(step(o.id, 'collect', t.nurse, { when: 'now' }), /^body: Unrecognized key: "when"/);
    // Nothing was half-written: the order is still collected, and takes its results once.
    expect((await stack.api('GET', `/api/lab-orders/${o.id}`, undefined, t.lab)).body).toMatchObject({ status: 'collected', items: [{ value: null }, { value: null }] });
    expect((await step(o.id, 'results', t.lab, { results: [{ testId: tests.k, value: 4 }, { testId: tests.na, value: 140 }] })).status).toBe(200);

    await invalid(stack.api('GET', '/api/lab-orders?status=lost', undefined, t.lab), 'query.status: must be one of ordered, collected, resulted, released');
    await invalid(stack.api('GET', '/api/lab-orders?patientId=x', undefined, t.lab), 'query.patientId: must be a UUID');
  });
});
