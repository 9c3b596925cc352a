// One driver (PGlite, what `npm start` uses): it kills the real process.
// After a SIGKILL the engine re-derives the open alarms at start and says so in the trail (issue 14,
// docs/alarms.md §7). The engine's own transitions are not waited for: here an acknowledged alarm is
// resolved by the engine (its limit was raised) and the process is killed before the resolve is
// written (WRITE_FLUSH_MS is long). The next start finds the alarm open and acknowledged in the
// database, its condition gone, and resolves it — keeping the nurse's acknowledgement — with a
// reason that says it was reconciled after an unclean shutdown. A clean shutdown leaves no such note.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/stack.ts';
import { exitOf, processSession as session, startServerProcess } from '../helpers/server-process.ts';

const UNCLEAN = /did not shut down cleanly/;

type Step = { from: string | null; to: string; by: string | null; comment: string | null };

describe('the start after kill -9 reconciles the alarms', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('resolves an alarm whose condition went before the crash, keeps the acknowledgement, says why; a clean restart says nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wardpulse-reconcile-'));
    dirs.push(dataDir);
    const first = startServerProcess(dataDir, { WRITE_FLUSH_MS: '10000' });
    children.push(first.child);
    const admin = await session(first.output);
    expect(first.output()).not.toMatch(UNCLEAN);
    const patient = (await admin.api('POST', '/api/patients', { name: 'Rec Onciled', ward: 'R', bed: '1' })).body;
    expect((await admin.api('POST', '/api/auth/register', { email: 'nurse@r.test', name: 'Nurse R', password: 'nurse-password-1', role: 'nurse' })).status).toBe(201);
    const a = await session(first.output, 'nurse@r.test', 'nurse-password-1');
    expect((await a.api('PUT', `/api/patients/${patient.id}/limits`, { temp: { high: 37.5 } })).status).toBe(200);
    expect((await a.api('POST', `/api/patients/${patient.id}/observations`, { temp: 38.2 })).status).toBe(201);
    // Seen in the database just after the writers' flush tick: the next one is 10 s away.
    const alarm = await eventually(async () => (await a.api('GET', `/api/alerts?patientId=${patient.id}&state=open`)).body.items?.find((x: { key: string }) => x.key === 'limit:temp'), 20_000, 'temperature alarm stored');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    await eventually(async () => JSON.stringify((await a.api('GET', `/api/patients/${patient.id}/vitals?from=${from}`)).body).includes('38.2'), 5000, 'the reading stored');
    expect(await a.api('POST', `/api/alerts/${alarm.id}/ack`, { comment: 'seen' })).toMatchObject({ status: 200, body: { state: 'acknowledged' } });
    // The limit goes up: the engine resolves the alarm within a second, in memory; the kill comes before the flush.
    expect((await a.api('PUT', `/api/patients/${patient.id}/limits`, { temp: { high: 39 } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    first.child.kill('SIGKILL');
    expect(await exitOf(first.child)).toBe('SIGKILL');

    const second = startServerProcess(dataDir);
    children.push(second.child);
    const b = await session(second.output);
    expect(second.output()).toMatch(UNCLEAN);
    const after = await eventually(async () => {
      const r = await b.api('GET', `/api/alerts/${alarm.id}`);
      return r.body.state === 'resolved' && r.body.transitions?.length >= 3 ? r.body : null;
    }, 10_000, 'the alarm resolved and its trail stored');
    expect(after).toMatchObject({ acknowledgedBy: a.userId });
    expect(after.transitions.map((t: Step) => [t.from, t.to, t.by, t.comment])).toEqual([
      [null, 'active', null, 'condition met: temp > 37.5'],
      ['active', 'acknowledged', a.userId, 'seen'],
      ['acknowledged', 'resolved', null, 'condition cleared (reconciled after an unclean shutdown)'],
    ]);

    // A clean shutdown: the next start has nothing to reconcile and says nothing.
    second.child.kill('SIGTERM');
    expect(await exitOf(second.child)).toBe(0);
    const third = startServerProcess(dataDir);
    children.push(third.child);
    await session(third.output);
    expect(third.output()).not.toMatch(UNCLEAN);
    third.child.kill('SIGTERM');
    expect(await exitOf(third.child)).toBe(0);
  }, 180_000);
});
