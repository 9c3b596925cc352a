// One driver (PGlite, what `npm start` uses): it kills the real process, which is about the
// answer's meaning, not the storage (the same writers serve both drivers).
// A 200 means stored (docs/decisions/0024): a nurse's acknowledgement, a limit change and their
// audit entries survive a SIGKILL sent the moment the answer arrives. WRITE_FLUSH_MS is long, so
// a row that merely waited in a writer's memory would be lost by the kill.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/stack.ts';
import { exitOf, processSession as session, startServerProcess } from '../helpers/server-process.ts';


describe('a 200 survives kill -9', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('an acknowledgement with its user and comment, a limit change and their audit entries', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-kill-'));
    dirs.push(dataDir);
    const first = startServerProcess(dataDir, { WRITE_FLUSH_MS: '5000' });
    children.push(first.child);
    const admin = await session(first.output);
    const patient = (await admin.api('POST', '/api/patients', { name: 'Kay Nine', ward: 'K', bed: '9' })).body;
    expect((await admin.api('POST', '/api/auth/register', { email: 'nurse@k.test', name: 'Nurse K', password: 'nurse-password-1', role: 'nurse' })).status).toBe(201);
    const a = await session(first.output, 'nurse@k.test', 'nurse-password-1');
    expect((await a.api('PUT', `/api/patients/${patient.id}/limits`, { temp: { high: 37.5 } })).status).toBe(200);
    expect((await a.api('POST', `/api/patients/${patient.id}/observations`, { temp: 38.2 })).status).toBe(201);
    const alarm = await eventually(async () => (await a.api('GET', `/api/alerts?patientId=${patient.id}&state=open`)).body.items?.find((x: { key: string }) => x.key === 'limit:temp'), 20_000, 'temperature alarm stored');

    const acked = await a.api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'seen, cooling started' });
    first.child.kill('SIGKILL'); // the moment the answer is in
    expect(acked).toMatchObject({ status: 200, body: { state: 'acknowledged' } });
    expect(await exitOf(first.child)).toBe('SIGKILL');

    const second = startServerProcess(dataDir, { WRITE_FLUSH_MS: '5000' });
    children.push(second.child);
    const b = await session(second.output);
    const after = await b.api('GET', `/api/alerts/${alarm.id}`);
    expect(after.body).toMatchObject({ id: alarm.id, state: 'acknowledged' });
    expect(after.body.transitions.map((t: { from: string | null; to: string; by: string | null; comment: string | null }) => [t.from, t.to, t.by, t.comment])).toContainEqual(['active', 'acknowledged', a.userId, 'seen, cooling started']);
    expect((await b.api('GET', `/api/patients/${patient.id}`)).body).toMatchObject({ alarmLimits: { temp: { high: 37.5 } } });
    const audit = (await b.api('GET', `/api/audit?patientId=${patient.id}`)).body.items as { action: string; resource: string; actorId: string; details: unknown }[];
    expect(audit.find((e) => e.resource === 'alert' && e.action === 'ack')).toMatchObject({ actorId: a.userId, details: { comment: 'seen, cooling started' } });
    expect(audit.find((e) => e.resource === 'alarm-limits')).toMatchObject({ action: 'update', details: { after: { temp: { high: 37.5 } } } });
    second.child.kill('SIGTERM');
    expect(await exitOf(second.child)).toBe(0);
  }, 180_000);
});
