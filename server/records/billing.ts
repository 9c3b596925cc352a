// Bill arithmetic, pure: integer minor units (cents) in and out, never floats. Products that can
// exceed Number.MAX_SAFE_INTEGER (amount × basis points) are done in BigInt.
//
// Rounding: a percentage (tax or discount) of an amount is rounded half-up to the minor unit —
// 0.5 cent and above goes up — which for the non-negative amounts here is also "half away from
// zero", the usual commercial rule. Tax is charged on (subtotal − discount).

export type BillItemKind = 'consultation' | 'lab' | 'medicine' | 'other';

export interface BillItemInput {
  kind: BillItemKind;
  description: string;
  quantity: number;
  /** Minor units. */
  unitPrice: number;
}

export interface BillLine extends BillItemInput {
  /** quantity × unitPrice, minor units. */
  amount: number;
}

export type Discount = { percentBasisPoints: number } | { amount: number };

export interface ComputedBill {
  lines: BillLine[];
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

export type BillingResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** 10 000 basis points = 100 %. */
export const BASIS = 10_000;

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** round_half_up(value × bp / 10 000) for value, bp ≥ 0. */
export function percentOf(value: number, basisPoints: number): number {
  const r = (BigInt(value) * BigInt(basisPoints) * 2n + BigInt(BASIS)) / (2n * BigInt(BASIS));
  return Number(r);
}

export function computeBill(items: readonly BillItemInput[], taxRateBasisPoints = 0, discount?: Discount): BillingResult<ComputedBill> {
  if (items.length === 0) return { ok: false, error: 'a bill needs at least one item' };
  if (!isCount(taxRateBasisPoints) || taxRateBasisPoints > BASIS) return { ok: false, error: `tax rate must be 0–${BASIS} basis points` };
  const lines: BillLine[] = [];
  let subtotal = 0n;
  for (const [i, it] of items.entries()) {
    if (!Number.isSafeInteger(it.quantity) || it.quantity <= 0) return { ok: false, error: `items.${i}.quantity must be a positive integer` };
    if (!isCount(it.unitPrice)) return { ok: false, error: `items.${i}.unitPrice must be a non-negative integer of minor units` };
    const amount = BigInt(it.quantity) * BigInt(it.unitPrice);
    if (amount > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: `items.${i}: amount too large` };
    subtotal += amount;
    lines.push({ ...it, amount: Number(amount) });
  }
  if (subtotal > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'subtotal too large' };
  const sub = Number(subtotal);

  let off = 0;
  if (discount && 'percentBasisPoints' in discount) {
    if (!isCount(discount.percentBasisPoints) || discount.percentBasisPoints > BASIS) return { ok: false, error: `discount percentage must be 0–${BASIS} basis points` };
    off = percentOf(sub, discount.percentBasisPoints);
  } else if (discount) {
    if (!isCount(discount.amount)) return { ok: false, error: 'discount amount must be a non-negative integer of minor units' };
    if (discount.amount > sub) return { ok: false, error: `discount ${discount.amount} exceeds the subtotal ${sub}` };
    off = discount.amount;
  }
  const tax = percentOf(sub - off, taxRateBasisPoints);
  return { ok: true, value: { lines, subtotal: sub, discount: off, tax, total: sub - off + tax } };
}

export type BillStatus = 'unpaid' | 'partial' | 'paid' | 'void';

export interface BillBalance {
  total: number;
  paid: number;
  status: BillStatus;
}

/** The status a bill has with `paid` of `total` paid (a zero bill is paid from the start). */
export function statusOf(total: number, paid: number): Exclude<BillStatus, 'void'> {
  if (paid >= total) return 'paid';
  return paid === 0 ? 'unpaid' : 'partial';
}

/** Apply one payment: refused when not a positive integer, when the bill is void or settled, or when it would overpay. */
export function applyPayment(bill: BillBalance, amount: number): BillingResult<{ paid: number; status: BillStatus; balance: number }> {
  if (!Number.isSafeInteger(amount) || amount <= 0) return { ok: false, error: 'amount must be a positive integer of minor units' };
  if (bill.status === 'void') return { ok: false, error: 'the bill is void' };
  const balance = bill.total - bill.paid;
  if (balance <= 0) return { ok: false, error: 'the bill is already paid' };
  if (amount > balance) return { ok: false, error: `overpayment refused: the balance is ${balance}, the payment ${amount}` };
  const paid = bill.paid + amount;
  return { ok: true, value: { paid, status: statusOf(bill.total, paid), balance: bill.total - paid } };
}

/**
 * What an online payment order charges: the bill's whole outstanding balance, from the server's
 * figures — never an amount a client sends. Refused for a void or settled bill.
 */
export function amountDue(bill: BillBalance): BillingResult<number> {
  if (bill.status === 'void') return { ok: false, error: 'the bill is void' };
  const balance = bill.total - bill.paid;
  if (balance <= 0) return { ok: false, error: 'the bill is already paid' };
  return { ok: true, value: balance };
}
