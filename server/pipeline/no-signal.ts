// Device values that mean "no measurement" rather than a measurement. Pure.
//
// A pulse oximeter reports SpO2 0 when it sees no pulsatile signal (probe off, poor perfusion,
// finger too cold): not a saturation of 0 %. Scored, it would add 3 to NEWS2 and raise a
// high-priority physiological alarm for a patient who may be fine; dropped silently, nobody would
// know the probe is off. So it is taken out of the reading (neither stored nor scored) and becomes
// the technical alarm "no SpO2 signal" (technical.ts). HR 0 is not treated this way: from an ECG
// it may be asystole, and it stays a high-priority physiological alarm.
import type { NumericVital, VitalValues } from '../domain/vitals.ts';

const NO_SIGNAL_VALUE: Partial<Record<NumericVital, number>> = { spo2: 0 };

export function takeNoSignal(values: VitalValues): { values: VitalValues; noSignal: NumericVital[] } {
  let out: VitalValues | null = null;
  const noSignal: NumericVital[] = [];
  for (const [k, marker] of Object.entries(NO_SIGNAL_VALUE) as [NumericVital, number][]) {
    if (values[k] !== marker) continue;
    out ??= { ...values };
    delete out[k];
    noSignal.push(k);
  }
  return { values: out ?? values, noSignal };
}
