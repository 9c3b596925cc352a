// Stock movements on each database driver: receive, dispense, adjust; concurrent dispenses that
// never take stock below zero; low-stock and near-expiry lists beside the generic item CRUD.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe.each<DbKind>(['pglite', 'postgres'])('stock on %s', (kind) => {
  let stack: Stack;
  let pharmacist: string;
  let nurse: string;

  const user = async (role: string) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role });
    expect(r.status).toBe(201);
    return stack.login(email, 'long-enough-password');
  };
  const item = async (body: Record<string, unknown> = {}) => {
    const r = await stack.api('POST', '/api/stock', { itemName: `Item ${randomUUID().slice(0, 6)}`, unit: 'tablet', ...body }, pharmacist);
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const move = (id: string, what: 'receive' | 'dispense' | 'adjust', body: unknown, token = pharmacist) => stack.api('POST', `/api/stock/${id}/${what}`, body, token);

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    pharmacist = await user('pharmacist');
    nurse = await user('nurse');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('receives, dispenses and adjusts, recording each movement', async () => {
    const id = await item();
    const rec = await move(id, 'receive', { quantity: 10, reference: 'PO-1' });
    expect(rec.status).toBe(200);
    expect(rec.body).toMatchObject({ item: { id, quantity: 10 }, movement: { itemId: id, kind: 'receive', quantity: 10, reference: 'PO-1' } });
    expect((await move(id, 'dispense', { quantity: 4 })).body.item.quantity).toBe(6);
    const short = await move(id, 'dispense', { quantity: 7 });
    expect(short.status).toBe(409);
    expect(short.body.error.code).toBe('ERR_STOCK_SHORT');
    expect(short.body.error.message).toMatch(/only 6 tablet left/);
    expect(short.body.error.details).toMatchObject({ itemId: id, available: 6, requested: 7 });

    expect((await move(id, 'adjust', { quantity: -2 })).status).toBe(400); // reason required
    expect((await move(id, 'adjust', { quantity: 0, reason: 'x' })).status).toBe(400);
    expect((await move(id, 'adjust', { quantity: -7, reason: 'broken' })).status).toBe(409);
    expect((await move(id, 'adjust', { quantity: -1, reason: 'broken' })).body.item.quantity).toBe(5);
    expect((await move(id, 'receive', { quantity: -1 })).status).toBe(400);
    expect((await move(randomUUID(), 'receive', { quantity: 1 })).status).toBe(404);
    expect((await stack.api('GET', `/api/stock/${randomUUID()}/movements`, undefined, nurse)).status).toBe(404);

    const mv = await stack.api('GET', `/api/stock/${id}/movements`, undefined, nurse);
    expect(mv.status).toBe(200);
    expect(mv.body.items.map((m: { kind: string; quantity: number }) => `${m.kind} ${m.quantity}`)).toEqual(['adjust -1', 'dispense -4', 'receive 10']);
    expect((await stack.api('GET', `/api/stock/${id}`, undefined, nurse)).body.quantity).toBe(5);
  });

  it('lets exactly the available units out under 20 concurrent dispenses', async () => {
    const id = await item();
    await move(id, 'receive', { quantity: 10 });
    const results = await Promise.all(Array.from({ length: 20 }, () => move(id, 'dispense', { quantity: 1 })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409)).toHaveLength(10);
    for (const r of results) if (r.status === 200) expect(r.body.item.quantity).toBeGreaterThanOrEqual(0);
    expect(new Set(results.filter((r) => r.status === 200).map((r) => r.body.item.quantity))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect((await stack.api('GET', `/api/stock/${id}`)).body.quantity).toBe(0);
    const mv = await stack.api('GET', `/api/stock/${id}/movements?limit=100`);
    expect(mv.body.items.filter((m: { kind: string }) => m.kind === 'dispense')).toHaveLength(10);
  });

  it('lists low stock and near-expiry items without taking the path for an id', async () => {
    const low = await item({ reorderLevel: 5 });
    await move(low, 'receive', { quantity: 3 });
    const fine = await item({ reorderLevel: 5 });
    await move(fine, 'receive', { quantity: 50 });
    const lowList = await stack.api('GET', '/api/stock/low?limit=1000', undefined, nurse);
    expect(lowList.status).toBe(200);
    const lowIds = lowList.body.items.map((i: { id: string }) => i.id);
    expect(lowIds).toContain(low);
    expect(lowIds).not.toContain(fine);

    const soon = await item({ expiryDate: day(10) });
    const later = await item({ expiryDate: day(100) });
    const expired = await item({ expiryDate: day(-3) });
    const emptySoon = await item({ expiryDate: day(5) });
    for (const id of [soon, later, expired]) await move(id, 'receive', { quantity: 1 });
    const ids = async (q: string) => (await stack.api('GET', `/api/stock/expiring${q}`, undefined, nurse)).body.items.map((i: { id: string }) => i.id);
    const in30 = await ids('?limit=1000');
    expect(in30).toEqual(expect.arrayContaining([soon, expired]));
    expect(in30).not.toContain(later);
    expect(in30).not.toContain(emptySoon); // nothing on the shelf to expire
    expect(await ids('?days=5&limit=1000')).not.toContain(soon);
    const all = await stack.api('GET', '/api/stock/expiring?days=365&limit=1000', undefined, nurse);
    expect(all.body.items.find((i: { id: string }) => i.id === expired)).toMatchObject({ expired: true, expiryDate: day(-3) });
    expect(all.body.items.find((i: { id: string }) => i.id === later)).toMatchObject({ expired: false, expiryDate: day(100) });
    expect((await stack.api('GET', '/api/stock/expiring?days=-1', undefined, nurse)).status).toBe(400);
  });

  it('refuses movements of an archived item (ERR_ARCHIVED)', async () => {
    const id = await item();
    await move(id, 'receive', { quantity: 2 });
    expect((await stack.api('DELETE', `/api/stock/${id}`, undefined, pharmacist)).status).toBe(200);
    const r = await move(id, 'dispense', { quantity: 1 });
    expect(r).toMatchObject({ status: 409, body: { error: { code: 'ERR_ARCHIVED', message: expect.stringMatching(/is archived/) } } });
  });

  it('lets doctors and nurses read, pharmacists and admins move stock', async () => {
    const id = await item();
    expect((await move(id, 'receive', { quantity: 1 }, nurse)).status).toBe(403);
    expect((await move(id, 'receive', { quantity: 1 }, stack.adminToken)).status).toBe(200);
    expect((await stack.api('GET', '/api/stock/low', undefined, null)).status).toBe(401);
    expect((await stack.api('GET', `/api/stock/${id}`, undefined, null)).status).toBe(401);
    expect((await stack.api('GET', '/api/stock?limit=5', undefined, nurse)).status).toBe(200);
  });

  it('audits movements', async () => {
    const id = await item();
    await move(id, 'receive', { quantity: 2, reason: 'delivery' });
    await eventually(async () => {
      const r = await stack.api('GET', '/api/audit?limit=200');
      return r.body.items.some((a: { action: string; resourceId: string }) => a.action === 'receive' && a.resourceId === id);
    }, 5000, 'audit row');
  });
});
