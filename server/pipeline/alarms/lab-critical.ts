// Critical lab results as alarm conditions. Pure: the engine (engine.ts) passes the results of one
// order as it hears of them and steps the lifecycle with the conditions this returns.
//
// A lab value is one measurement, not a signal: nothing later says "the condition cleared" the way
// a heart rate coming back inside its limit does. So the condition is the *report* of the result —
// it holds at the evaluation that hears of it and not after — and the alarm is a latching alarm
// signal (IEC 60601-1-8: it continues after its triggering event no longer exists, until stopped
// by deliberate operator action). It is high priority and physiological, so it latches and
// escalates like every high-priority alarm (lifecycle.ts: `latches`, `escalationDelay`) until a
// clinician acknowledges it (which, its condition having passed, resolves it: "acknowledged after
// its condition cleared") or resolves it; a silence pauses it for SILENCE_S, as any other.
import type { Condition } from '../../domain/alarms.ts';

/** One critical result of an order, as the results route hands it to the engine. */
export interface LabCriticalResult {
  testId: string;
  /** The catalogue's code (LOINC where known): the alarm's `parameter`. */
  code: string;
  name: string;
  unit: string;
  value: number;
  flag: 'LL' | 'HH';
  /** The critical limit crossed. */
  limit: number;
}

/** One alarm per result of an order: a second critical result is news of its own, never merged into the first. */
export const labCriticalKey = (orderId: string, testId: string) => `lab-critical:${orderId}:${testId}`;

const withUnit = (v: number, unit: string) => (unit ? `${v} ${unit}` : String(v));

export function labCriticalConditions(orderId: string, results: readonly LabCriticalResult[]): Condition[] {
  return results.map((r) => {
    const high = r.flag === 'HH';
    return {
      key: labCriticalKey(orderId, r.testId),
      kind: 'lab-critical',
      category: 'physiological',
      priority: 'high',
      parameter: r.code,
      value: r.value,
      limit: r.limit,
      rule: `${r.name} ${high ? '>' : '<'} ${withUnit(r.limit, r.unit)} (critical ${high ? 'high' : 'low'})`,
      message: `Critical lab result: ${r.name} ${withUnit(r.value, r.unit)} (${r.flag}; critical ${high ? 'above' : 'below'} ${withUnit(r.limit, r.unit)}): tell the responsible clinician now`,
      delayMs: 0,
    };
  });
}
