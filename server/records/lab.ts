// Lab rules, pure (no I/O): how a result is flagged against the catalogue's ranges, which ranges a
// catalogue entry may hold, and which order transitions are legal — with the precise refusal.
// Unit-tested in test/unit/lab.test.ts; the store (lab-orders.store.ts) applies them.
import type { LabFlag, LabOrderStatus, LabRanges } from '../domain/lab.ts';

/**
 * The flag of `value` against `r` (HL7 v2 table 0078): beyond a critical limit `LL`/`HH`; else
 * outside the reference range `L`/`H`; else `N` when there is a reference limit to be inside of;
 * null when the catalogue gives no range at all (nothing to judge by — never assumed normal).
 * A value equal to a limit is inside it, as for every alarm limit (docs/alarms.md §3.1): the
 * limits a lab publishes are the last acceptable values.
 */
export function flagResult(value: number, r: LabRanges): LabFlag | null {
  if (r.criticalLow !== null && value < r.criticalLow) return 'LL';
  if (r.criticalHigh !== null && value > r.criticalHigh) return 'HH';
  if (r.referenceLow !== null && value < r.referenceLow) return 'L';
  if (r.referenceHigh !== null && value > r.referenceHigh) return 'H';
  if (r.referenceLow !== null || r.referenceHigh !== null) return 'N';
  return null;
}

/** The limit a flag was judged against (the crossed one; for `N`, null). */
export function crossedLimit(flag: LabFlag | null, r: LabRanges): number | null {
  switch (flag) {
    case 'LL':
      return r.criticalLow;
    case 'HH':
      return r.criticalHigh;
    case 'L':
      return r.referenceLow;
    case 'H':
      return r.referenceHigh;
    default:
      return null;
  }
}

/**
 * What is wrong with a catalogue entry's ranges, one sentence per rule broken (empty: fine):
 * each range low ≤ high, and a critical limit strictly outside the reference range on its side
 * (a critical value is abnormal by definition; equal to the reference limit, `L`/`H` could never
 * be given). Each sentence starts with the field it is about.
 */
export function rangeProblems(r: Partial<LabRanges>): { field: keyof LabRanges; message: string }[] {
  const out: { field: keyof LabRanges; message: string }[] = [];
  const has = (v: number | null | undefined): v is number => typeof v === 'number';
  const { referenceLow: rl, referenceHigh: rh, criticalLow: cl, criticalHigh: ch } = r;
  if (has(rl) && has(rh) && rl > rh) out.push({ field: 'referenceLow', message: `must be at most referenceHigh (${rh}), got ${rl}` });
  if (has(cl) && has(ch) && cl >= ch) out.push({ field: 'criticalLow', message: `must be below criticalHigh (${ch}), got ${cl}` });
  if (has(cl) && has(rl) && cl >= rl) out.push({ field: 'criticalLow', message: `must be below referenceLow (${rl}): a critical value lies outside the reference range, got ${cl}` });
  if (has(ch) && has(rh) && ch <= rh) out.push({ field: 'criticalHigh', message: `must be above referenceHigh (${rh}): a critical value lies outside the reference range, got ${ch}` });
  // One-sided ranges: a critical low above the reference high (or the reverse) is as wrong.
  if (has(cl) && !has(rl) && has(rh) && cl >= rh) out.push({ field: 'criticalLow', message: `must be below referenceHigh (${rh}), got ${cl}` });
  if (has(ch) && !has(rh) && has(rl) && ch <= rl) out.push({ field: 'criticalHigh', message: `must be above referenceLow (${rl}), got ${ch}` });
  return out;
}

// ---------------------------------------------------------------- the order's life

export type LabAction = 'collect' | 'result' | 'release';

/** The state each action needs and the state it leads to. */
const STEPS: Record<LabAction, { from: LabOrderStatus; to: LabOrderStatus }> = {
  collect: { from: 'ordered', to: 'collected' },
  result: { from: 'collected', to: 'resulted' },
  release: { from: 'resulted', to: 'released' },
};

/** When each state was reached (ISO 8601), for the refusal's wording. */
export interface LabOrderTimes {
  collectedAt: string | null;
  resultedAt: string | null;
  releasedAt: string | null;
}

export type LabStep = { ok: true; to: LabOrderStatus } | { ok: false; message: string };

/**
 * `action` on an order in `status`: ordered → collected → resulted → released, one step at a
 * time, never back. A refusal says what state the order is in, since when, and what comes first.
 */
export function labTransition(id: string, status: LabOrderStatus, action: LabAction, at: LabOrderTimes): LabStep {
  const step = STEPS[action];
  if (status === step.from) return { ok: true, to: step.to };
  const order = `lab order '${id}'`;
  const since = (t: string | null) => (t ? ` (at ${t})` : '');
  switch (action) {
    case 'collect':
      if (status === 'collected') return { ok: false, message: `${order} is already collected${since(at.collectedAt)}` };
      return { ok: false, message: `${order} is already ${status}${since(status === 'resulted' ? at.resultedAt : at.releasedAt)}: its specimen was collected${since(at.collectedAt)}` };
    case 'result':
      if (status === 'ordered') return { ok: false, message: `${order} has no specimen yet: collect it first (PUT /api/lab-orders/${id}/collect)` };
      return { ok: false, message: `${order} is already ${status}${since(status === 'resulted' ? at.resultedAt : at.releasedAt)}: results are entered once` };
    case 'release':
      if (status === 'released') return { ok: false, message: `${order} is already released${since(at.releasedAt)}` };
      return { ok: false, message: `${order} has no results to release yet (status '${status}')` };
  }
}
