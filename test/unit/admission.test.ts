import { describe, expect, it } from 'vitest';
import { Admission } from '../../broker/admission.ts';
import { Refusal, refusalKind } from '../../broker/refusals.ts';

describe('admission control (broker/admission.ts)', () => {
  it('admits while the event loop keeps up and the writer is not behind', () => {
    const a = new Admission({ maxLagMs: 250, holdMs: 5000 });
    a.sample(40, false, 1000);
    a.sample(249, false, 1500);
    expect(a.admit(1500)).toBe(true);
    expect(a.state(1500)).toEqual({ overloaded: false, lagMs: 249 });
  });

  it('refuses from a sample over the bar until holdMs after the last such sample, then admits by itself', () => {
    const a = new Admission({ maxLagMs: 250, holdMs: 5000 });
    a.sample(400, false, 10_000);
    expect(a.admit(10_000)).toBe(false);
    a.sample(90, false, 10_500);
    expect(a.admit(14_999)).toBe(false);
    a.sample(300, false, 12_000); // still overloaded: the hold restarts
    expect(a.admit(16_500)).toBe(false);
    expect(a.admit(17_000)).toBe(true);
  });

  it('counts a database writer that is behind as overload whatever the event loop says', () => {
    const a = new Admission({ maxLagMs: 250, holdMs: 1000 });
    a.sample(5, true, 0);
    expect(a.admit(500)).toBe(false);
    expect(a.admit(1000)).toBe(true);
  });

  it('never refuses when switched off (maxLagMs 0)', () => {
    const a = new Admission({ maxLagMs: 0, holdMs: 5000 });
    a.sample(10_000, true, 0);
    expect(a.admit(0)).toBe(true);
  });

  it('labels the refusal by what it is', () => {
    expect(refusalKind(Refusal.overloaded)).toBe('overloaded');
  });
});
