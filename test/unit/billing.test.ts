// Bill arithmetic: worked examples, then properties over random bills and payment splits.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyPayment, computeBill, percentOf, statusOf, type BillItemInput, type Discount } from '../../server/records/billing.ts';

const ok = <T>(r: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('computeBill', () => {
  it('adds lines, takes the discount, then the tax on the rest', () => {
    const b = ok(
      computeBill(
        [
          { kind: 'consultation', description: 'Dr A', quantity: 1, unitPrice: 5000 },
          { kind: 'medicine', description: 'Paracetamol', quantity: 3, unitPrice: 199 },
        ],
        1800, // 18 %
        { percentBasisPoints: 1000 }, // 10 %
      ),
    );
    expect(b.lines.map((l) => l.amount)).toEqual([5000, 597]);
    expect(b.subtotal).toBe(5597);
    expect(b.discount).toBe(560); // 559.7 → 560
    expect(b.tax).toBe(907); // 18 % of 5037 = 906.66 → 907
    expect(b.total).toBe(5597 - 560 + 907);
  });

  it.each([
    [50, 1000, 5], // 5.0
    [5, 1000, 1], // 0.5 → 1 (half up)
    [4, 1000, 0], // 0.4 → 0
    [15, 1000, 2], // 1.5 → 2
    [25, 1000, 3], // 2.5 → 3 (not banker's 2)
    [1, 4999, 0], // 0.4999 → 0
    [1, 5000, 1], // 0.5 → 1
  ])('rounds %i × %i bp half-up to %i', (v, bp, want) => {
    expect(percentOf(v, bp)).toBe(want);
  });

  it('is exact where a float product would not be', () => {
    const big = 900_000_000_000_000; // 9e14 × 9999 overflows 2^53
    expect(percentOf(big, 9999)).toBe(899_910_000_000_000);
  });

  it('refuses what it cannot price', () => {
    expect(computeBill([], 0).ok).toBe(false);
    expect(computeBill([{ kind: 'other', description: 'x', quantity: 0, unitPrice: 1 }]).ok).toBe(false);
    expect(computeBill([{ kind: 'other', description: 'x', quantity: 1, unitPrice: 1.5 }]).ok).toBe(false);
    expect(computeBill([{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }], 0, { amount: 101 })).toEqual({ ok: false, error: 'discount 101 exceeds the subtotal 100' });
    expect(computeBill([{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }], 10_001).ok).toBe(false);
  });
});

describe('applyPayment', () => {
  it('moves unpaid → partial → paid and refuses more', () => {
    const a = ok(applyPayment({ total: 1000, paid: 0, status: 'unpaid' }, 400));
    expect(a).toEqual({ paid: 400, status: 'partial', balance: 600 });
    expect(applyPayment({ total: 1000, paid: 400, status: 'partial' }, 601)).toEqual({ ok: false, error: 'overpayment refused: the balance is 600, the payment 601' });
    expect(ok(applyPayment({ total: 1000, paid: 400, status: 'partial' }, 600))).toEqual({ paid: 1000, status: 'paid', balance: 0 });
    expect(applyPayment({ total: 1000, paid: 1000, status: 'paid' }, 1).ok).toBe(false);
    expect(applyPayment({ total: 1000, paid: 0, status: 'unpaid' }, 0).ok).toBe(false);
    expect(applyPayment({ total: 1000, paid: 0, status: 'unpaid' }, -5).ok).toBe(false);
    expect(applyPayment({ total: 1000, paid: 0, status: 'void' }, 5).ok).toBe(false);
  });
  it('treats a zero bill as paid', () => {
    expect(statusOf(0, 0)).toBe('paid');
  });
});

// ---------------------------------------------------------------- properties

const item: fc.Arbitrary<BillItemInput> = fc.record({
  kind: fc.constantFrom('consultation', 'lab', 'medicine', 'other'),
  description: fc.string({ minLength: 1, maxLength: 10 }),
  quantity: fc.integer({ min: 1, max: 10_000 }),
  unitPrice: fc.integer({ min: 0, max: 100_000_000 }),
});
const items = fc.array(item, { minLength: 1, maxLength: 20 });
const tax = fc.integer({ min: 0, max: 10_000 });
const discount: fc.Arbitrary<Discount | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 10_000 }).map((percentBasisPoints) => ({ percentBasisPoints })),
  fc.nat().map((amount) => ({ amount })),
);

describe('bill properties', () => {
  it('total = subtotal − discount + tax; every figure a non-negative integer; discount ≤ subtotal', () => {
    fc.assert(
      fc.property(items, tax, discount, (its, t, d) => {
        const r = computeBill(its, t, d);
        if (!r.ok) {
          // The only refusal for these inputs: a fixed discount above the subtotal.
          expect(d && 'amount' in d).toBe(true);
          return;
        }
        const b = r.value;
        for (const n of [b.subtotal, b.discount, b.tax, b.total, ...b.lines.map((l) => l.amount)]) {
          expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
        }
        expect(b.total).toBe(b.subtotal - b.discount + b.tax);
        expect(b.discount).toBeLessThanOrEqual(b.subtotal);
        expect(b.subtotal).toBe(b.lines.reduce((s, l) => s + l.amount, 0));
        expect(b.tax).toBeLessThanOrEqual(b.subtotal - b.discount);
      }),
      { numRuns: 500 },
    );
  });

  it('a sequence of payment attempts never takes the paid sum above the total', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.array(fc.integer({ min: -10, max: 1_200_000 }), { maxLength: 30 }), (total, attempts) => {
        let bill = { total, paid: 0, status: statusOf(total, 0) as 'unpaid' | 'partial' | 'paid' };
        for (const a of attempts) {
          const r = applyPayment(bill, a);
          if (r.ok) bill = { total, paid: r.value.paid, status: r.value.status as typeof bill.status };
          expect(bill.paid).toBeLessThanOrEqual(total);
          expect(bill.status).toBe(statusOf(total, bill.paid));
        }
      }),
    );
  });

  it('paying the total in any split ends paid exactly at the total, partial before', () => {
    const split = fc
      .integer({ min: 1, max: 1_000_000 })
      .chain((total) => fc.tuple(fc.constant(total), total === 1 ? fc.constant([] as number[]) : fc.uniqueArray(fc.integer({ min: 1, max: total - 1 }), { maxLength: Math.min(20, total - 1) })));
    fc.assert(
      fc.property(split, ([total, cuts]) => {
        const points = [0, ...[...cuts].sort((a, b) => a - b), total];
        let bill = { total, paid: 0, status: 'unpaid' as 'unpaid' | 'partial' | 'paid' };
        for (let i = 1; i < points.length; i++) {
          const r = applyPayment(bill, points[i]! - points[i - 1]!);
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          bill = { total, paid: r.value.paid, status: r.value.status as typeof bill.status };
          expect(bill.status).toBe(i === points.length - 1 ? 'paid' : 'partial');
        }
        expect(bill.paid).toBe(total);
        expect(applyPayment(bill, 1).ok).toBe(false);
      }),
    );
  });
});
