// The generic resource mechanism, on each database driver: an update changes what it names and nothing else.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('generic resources on %s', (kind) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
  });
  afterAll(async () => stack?.close());

  it('a PUT naming one field leaves the others as they were, defaults included', async () => {
    const doc = await stack.api('POST', '/api/doctors', { name: 'Dr Keep', specialities: ['Cardiology'], languages: ['English'], fee: 9000, slotMinutes: 20 });
    expect(doc.status).toBe(201);
    const renamed = await stack.api('PUT', `/api/doctors/${doc.body.id}`, { name: 'Dr Kept' });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'Dr Kept', specialities: ['Cardiology'], languages: ['English'], fee: 9000, slotMinutes: 20 } });

    await stack.api('POST', '/api/auth/register', { email: 'pharm@res.test', name: 'Pharm', password: 'pharm-password-1', role: 'pharmacist' });
    const pharm = await stack.login('pharm@res.test', 'pharm-password-1');
    const item = await stack.api('POST', '/api/stock', { itemName: 'Aspirin 75 mg', unit: 'tablet', reorderLevel: 50, unitPrice: 3 }, pharm);
    expect(item.status).toBe(201);
    const rebatched = await stack.api('PUT', `/api/stock/${item.body.id}`, { batch: 'ASP-1' }, pharm);
    expect(rebatched).toMatchObject({ status: 200, body: { batch: 'ASP-1', reorderLevel: 50, unitPrice: 3 } });

    const empty = await stack.api('PUT', `/api/doctors/${doc.body.id}`, {});
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
  });
});
