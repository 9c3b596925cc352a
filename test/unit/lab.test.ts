// Lab rules (server/records/lab.ts): flagging a result against the catalogue's ranges (HL7 v2
// table 0078 flags; a value equal to a limit is inside it, as for every alarm limit), the rules a
// catalogue entry's ranges obey, and the order's transitions with their refusals. Pure, no I/O.
import { describe, expect, it } from 'vitest';
import { crossedLimit, flagResult, labTransition, rangeProblems } from '../../server/records/lab.ts';
import type { LabRanges } from '../../server/domain/lab.ts';

// Potassium in serum (LOINC 2823-3): reference 3.5–5.1 mmol/L, critical < 2.5 or > 6.5.
const K: LabRanges = { referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 };
const none: LabRanges = { referenceLow: null, referenceHigh: null, criticalLow: null, criticalHigh: null };

describe('flagResult', () => {
  it.each([
    [2.4, 'LL'],
    [2.5, 'L'], // at the critical limit: inside it
    [3.4, 'L'],
    [3.5, 'N'], // at the reference limit: inside it
    [4.2, 'N'],
    [5.1, 'N'],
    [5.2, 'H'],
    [6.5, 'H'],
    [6.6, 'HH'],
    [-1, 'LL'],
    [1e6, 'HH'],
  ] as const)('potassium %s → %s', (value, flag) => {
    expect(flagResult(value, K)).toBe(flag);
  });

  it('judges each side by what the catalogue gives', () => {
    // Troponin-like: only an upper reference and critical limit.
    const upper: LabRanges = { ...none, referenceHigh: 14, criticalHigh: 52 };
    expect([0, 14, 15, 52, 53].map((v) => flagResult(v, upper))).toEqual(['N', 'N', 'H', 'H', 'HH']);
    // A critical limit without a reference range: critical or not judged.
    const criticalOnly: LabRanges = { ...none, criticalLow: 2.2 };
    expect([2.1, 2.2, 9].map((v) => flagResult(v, criticalOnly))).toEqual(['LL', null, null]);
  });

  it('never calls a value normal without a range to judge it by', () => {
    expect(flagResult(4.2, none)).toBeNull();
  });

  it('names the limit each flag crossed', () => {
    expect(['LL', 'L', 'N', 'H', 'HH', null].map((f) => crossedLimit(f as never, K))).toEqual([2.5, 3.5, null, 5.1, 6.5, null]);
  });
});

describe('rangeProblems', () => {
  it('accepts sound ranges, one-sided ranges and none', () => {
    expect(rangeProblems(K)).toEqual([]);
    expect(rangeProblems({ referenceHigh: 14, criticalHigh: 52 })).toEqual([]);
    expect(rangeProblems({})).toEqual([]);
    expect(rangeProblems({ referenceLow: 5, referenceHigh: 5 })).toEqual([]); // a point range is allowed
  });

  it('names every rule broken, with the values', () => {
    expect(rangeProblems({ referenceLow: 5.1, referenceHigh: 3.5 })).toEqual([{ field: 'referenceLow', message: 'must be at most referenceHigh (3.5), got 5.1' }]);
    expect(rangeProblems({ ...K, criticalLow: 3.5 })).toEqual([
      { field: 'criticalLow', message: 'must be below referenceLow (3.5): a critical value lies outside the reference range, got 3.5' },
    ]);
    expect(rangeProblems({ ...K, criticalHigh: 5.0 })).toEqual([
      { field: 'criticalHigh', message: 'must be above referenceHigh (5.1): a critical value lies outside the reference range, got 5' },
    ]);
    expect(rangeProblems({ criticalLow: 7, criticalHigh: 6 })).toEqual([{ field: 'criticalLow', message: 'must be below criticalHigh (6), got 7' }]);
    expect(rangeProblems({ referenceHigh: 5, criticalLow: 6 })).toEqual([{ field: 'criticalLow', message: 'must be below referenceHigh (5), got 6' }]);
    expect(rangeProblems({ referenceLow: 3, criticalHigh: 2 })).toEqual([{ field: 'criticalHigh', message: 'must be above referenceLow (3), got 2' }]);
  });
});

describe('labTransition', () => {
  const none = { collectedAt: null, resultedAt: null, releasedAt: null };
  const at = { collectedAt: '2026-01-01T08:00:00.000Z', resultedAt: '2026-01-01T09:00:00.000Z', releasedAt: '2026-01-01T10:00:00.000Z' };

  it('goes ordered → collected → resulted → released, one step at a time', () => {
    expect(labTransition('o1', 'ordered', 'collect', none)).toEqual({ ok: true, to: 'collected' });
    expect(labTransition('o1', 'collected', 'result', at)).toEqual({ ok: true, to: 'resulted' });
    expect(labTransition('o1', 'resulted', 'release', at)).toEqual({ ok: true, to: 'released' });
  });

  it('refuses every other step, saying where the order is and what comes first', () => {
    const refusal = (status: Parameters<typeof labTransition>[1], action: Parameters<typeof labTransition>[2]) => {
      const t = labTransition('o1', status, action, at);
      return t.ok ? null : t.message;
    };
    expect(refusal('collected', 'collect')).toBe("lab order 'o1' is already collected (at 2026-01-01T08:00:00.000Z)");
    expect(refusal('resulted', 'collect')).toBe("lab order 'o1' is already resulted (at 2026-01-01T09:00:00.000Z): its specimen was collected (at 2026-01-01T08:00:00.000Z)");
    expect(refusal('released', 'collect')).toBe("lab order 'o1' is already released (at 2026-01-01T10:00:00.000Z): its specimen was collected (at 2026-01-01T08:00:00.000Z)");
    expect(refusal('ordered', 'result')).toBe("lab order 'o1' has no specimen yet: collect it first (PUT /api/lab-orders/o1/collect)");
    expect(refusal('resulted', 'result')).toBe("lab order 'o1' is already resulted (at 2026-01-01T09:00:00.000Z): results are entered once");
    expect(refusal('released', 'result')).toBe("lab order 'o1' is already released (at 2026-01-01T10:00:00.000Z): results are entered once");
    expect(refusal('ordered', 'release')).toBe("lab order 'o1' has no results to release yet (status 'ordered')");
    expect(refusal('collected', 'release')).toBe("lab order 'o1' has no results to release yet (status 'collected')");
    expect(refusal('released', 'release')).toBe("lab order 'o1' is already released (at 2026-01-01T10:00:00.000Z)");
  });
});
