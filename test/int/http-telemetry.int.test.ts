// Telemetry over HTTP (POST /api/telemetry) end to end on the real server, and a patient account
// reading its own vitals, score and alarms (and nobody else's).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { insertUser } from '../../db/records.ts';
import { hashSecret } from '../../server/auth/passwords.ts';

const PASSWORD = 'a-long-test-password';

describe.each(['pglite', 'postgres'] as const)('HTTP telemetry on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    // A real rate limit (the stack's default is lifted for streaming tests) and a short lockout.
    stack = await startStack(kind, inject('pgUrl'), { DEVICE_MAX_MSG_PER_S: '1', DEVICE_MSG_BURST: '5', DEVICE_AUTH_MAX_FAILURES: '3' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const post = async (deviceId: string, secret: string, body: unknown, raw = false) => {
    const res = await fetch(`${stack.base}/api/telemetry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${deviceId}:${secret}`).toString('base64')}` },
      body: raw ? (body as string) : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json().catch(() => null)) as any };
  };

  async function patientAccount(patientId: string): Promise<string> {
    const id = randomUUID();
    const email = `patient-${id.slice(0, 8)}@test.local`;
    await insertUser(stack.server.db.driver, { id, email, name: 'Patient', role: 'patient', passwordHash: await hashSecret(PASSWORD) });
    await stack.server.db.driver.query('UPDATE users SET patient_id = $2 WHERE id = $1', [id, patientId]);
    return stack.login(email, PASSWORD);
  }

  it('stores, scores and alarms readings posted over HTTP; the patient reads its own, not another’s', async () => {
    const { patientId, deviceId, secret } = await stack.provision('H1', '1');
    const ts = Date.now();
    const r = await post(deviceId, secret, [
      { ts: ts - 1000, seq: 1, hr: 72, spo2: 97, rr: 14, temp: 36.9, sbp: 122, dbp: 78 },
      // Low systolic pressure and fever: no alarm delay for either (physiological.ts).
      { ts, seq: 2, hr: 72, spo2: 97, rr: 14, temp: 40.2, sbp: 70, dbp: 40 },
    ]);
    expect(r).toMatchObject({ status: 202, body: { deviceId, accepted: 2, refused: 0, issues: [] } });
    // 202 means stored: the rows are there at once, no waiting.
    const rows = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${ts - 5000}&to=${ts + 1000}`);
    expect(rows.body.items).toHaveLength(2);
    expect(rows.body.items[1]).toMatchObject({ deviceId, source: 'device', seq: 2, values: { sbp: 70, temp: 40.2 } });

    const score = await eventually(async () => {
      const s = await stack.api('GET', `/api/patients/${patientId}/score`);
      return s.status === 200 && s.body.news2.total > 0 ? s.body : null;
    }, 5000, 'score');
    expect(score.news2.band).not.toBe('low');
    const alarm = await eventually(async () => {
      const a = await stack.api('GET', `/api/alerts?patientId=${patientId}`);
      return a.body.items?.find((x: any) => x.parameter === 'sbp');
    }, 5000, 'sbp alarm');
    expect(alarm).toMatchObject({ patientId, category: 'physiological' });

    // The patient's own account: vitals, score and alarms about itself.
    const me = await patientAccount(patientId);
    const own = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${ts - 5000}&to=${ts + 1000}`, undefined, me);
    expect(own.status).toBe(200);
    expect(own.body.items).toHaveLength(2);
    expect((await stack.api('GET', `/api/patients/${patientId}/score`, undefined, me)).body.news2.total).toBe(score.news2.total);
    const myAlerts = await stack.api('GET', `/api/patients/${patientId}/alerts`, undefined, me);
    expect(myAlerts.status).toBe(200);
    expect(myAlerts.body.items.some((x: any) => x.id === alarm.id)).toBe(true);
    // The ward-wide alarm list stays closed to a patient.
    expect((await stack.api('GET', `/api/alerts?patientId=${patientId}`, undefined, me)).status).toBe(403);

    // Someone else's: the same 404 as a patient that does not exist.
    const other = await stack.provision('H1', '2');
    for (const path of ['vitals', 'score', 'alerts', 'scores']) {
      const res = await stack.api('GET', `/api/patients/${other.patientId}/${path}`, undefined, me);
      expect(res.status, path).toBe(404);
    }
    // A linked family member (the link made by the desk, one way): the parent's account sees the
    // child's vitals; the child's account does not see the parent's.
    const parent = await stack.provision('H1', '3');
    const parentAccount = await patientAccount(parent.patientId);
    expect((await stack.api('GET', `/api/patients/${patientId}/vitals`, undefined, parentAccount)).status).toBe(404);
    expect((await stack.api('POST', `/api/patients/${parent.patientId}/family`, { memberId: patientId, relation: 'child' })).status).toBe(201);
    const family = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${ts - 5000}&to=${ts + 1000}`, undefined, parentAccount);
    expect(family.status).toBe(200);
    expect(family.body.items).toHaveLength(2);
    expect((await stack.api('GET', `/api/patients/${patientId}/alerts`, undefined, parentAccount)).body.items.length).toBeGreaterThan(0);
    expect((await stack.api('GET', `/api/patients/${parent.patientId}/vitals`, undefined, me)).status).toBe(404);

    // The reads are audited with the patient's id.
    const audit = await stack.api('GET', `/api/audit?patientId=${patientId}&limit=1000`);
    expect(audit.status).toBe(200);
    const actions = (audit.body.items as any[]).map((e) => `${e.action} ${e.resource}`);
    expect(actions).toEqual(expect.arrayContaining(['read vitals', 'read score', 'list alert']));
  });

  it('refuses wrong secrets with 401 and a Basic challenge, then locks the device out from that address', async () => {
    const { deviceId, secret } = await stack.provision('H2', '1');
    const bad = await post(deviceId, 'wrong-secret', { hr: 70 });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(/^Basic realm="wardpulse-devices"/);
    // A user's token is not a device credential.
    const token = await fetch(`${stack.base}/api/telemetry`, { method: 'POST', headers: { authorization: `Bearer ${stack.adminToken}` }, body: '{"hr":70}' });
    expect(token.status).toBe(401);
    expect(token.headers.get('www-authenticate')).toMatch(/^Basic/);
    await post(deviceId, 'wrong-secret', { hr: 70 });
    await post(deviceId, 'wrong-secret', { hr: 70 });
    // The OpenAPI entry says how a device authenticates.
    const doc = (await stack.api('GET', '/api/openapi.json', undefined, null)).body;
    expect(doc.paths['/api/telemetry'].post).toMatchObject({ security: [{ deviceBasic: [] }], responses: { '202': {}, '401': {}, '429': {} } });
    // Locked: even the right secret is refused from this address for now.
    const locked = await post(deviceId, secret, { hr: 70 });
    expect(locked.status).toBe(401);
    expect(locked.body.error.message).toMatch(/too many failed attempts/);
    // Recorded as for MQTT (written in the background, not awaited by the 401).
    await eventually(async () => {
      const errors = await stack.api('GET', '/api/ingest-errors?limit=1000');
      return (errors.body.items as any[]).some((e) => e.deviceId === deviceId && /locked out/.test(e.reason));
    }, 5000, 'lockout recorded');
  });

  it('stores a duplicate seq once, refuses an invalid body with a precise 400 and keeps the good part of a mixed one', async () => {
    const { patientId, deviceId, secret } = await stack.provision('H3', '1');
    const ts = Date.now() - 2000;
    const reading = { ts, seq: 7, hr: 80, spo2: 96 };
    expect((await post(deviceId, secret, reading)).status).toBe(202);
    expect((await post(deviceId, secret, reading)).status).toBe(202);
    const rows = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${ts - 1000}&to=${ts + 1000}`);
    expect(rows.body.items).toHaveLength(1);

    const bad = await post(deviceId, secret, { ts: 'yesterday', hr: 'fast' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ERR_VALIDATION');
    expect(bad.body.error.message).toMatch(/^no valid reading in the body: body\.ts/);
    expect(bad.body.error.details.length).toBeGreaterThan(0);
    const malformed = await post(deviceId, secret, '{"hr":', true);
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/malformed JSON/);

    const mixed = await post(deviceId, secret, [{ ts: ts + 500, hr: 81 }, { ts: ts + 600, hr: 'x' }]);
    expect(mixed.status).toBe(202);
    expect(mixed.body).toMatchObject({ accepted: 1, refused: 1 });
    expect(mixed.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ index: 1, field: 'hr' }), expect.objectContaining({ index: 1, refused: true })]));
    // The refusals are recorded like MQTT ones, with the HTTP topic.
    const errors = await stack.api('GET', '/api/ingest-errors?limit=1000');
    expect((errors.body.items as any[]).some((e) => e.deviceId === deviceId && e.topic === '(http) POST /api/telemetry')).toBe(true);

    const big = await post(deviceId, secret, `[${'{"hr":70},'.repeat(8000)}{"hr":70}]`, true);
    expect(big.status).toBe(413);
  });

  it('answers 429 with Retry-After over the rate limit, and takes nothing of the refused requests', async () => {
    const { patientId, deviceId, secret } = await stack.provision('H4', '1');
    const base = Date.now() - 10_000;
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await post(deviceId, secret, { ts: base + i, seq: 100 + i, hr: 70 + i });
      answers.push(r.status);
      if (r.status === 429) expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    const accepted = answers.filter((s) => s === 202).length;
    const rows = await stack.api('GET', `/api/patients/${patientId}/vitals?from=${base - 1000}&to=${base + 1000}`);
    // Exactly what was acknowledged is stored: nothing accepted-then-dropped, nothing refused-but-kept.
    expect(rows.body.items).toHaveLength(accepted);
  });
});
