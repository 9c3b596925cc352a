// Lab orders and results: the vocabulary shared by the server and the dashboard (the patient
// panel lists recent results with their flags). Types and constants only; imports nothing
// (docs/decisions/0020-neutral-domain-module.md).

/** An order's life: ordered by a doctor → specimen collected → resulted by the lab → released to the patient. */
export const LAB_ORDER_STATUSES = ['ordered', 'collected', 'resulted', 'released'] as const;
export type LabOrderStatus = (typeof LAB_ORDER_STATUSES)[number];

export const LAB_PRIORITIES = ['routine', 'urgent'] as const;
export type LabPriority = (typeof LAB_PRIORITIES)[number];

/**
 * A result's abnormal flag, after HL7 v2 table 0078 (interpretation codes): `N` normal (inside
 * the reference range), `L`/`H` below/above it, `LL`/`HH` beyond the critical limit (a critical
 * result: an alarm). Null: the catalogue gives no range to judge the value by.
 */
export const LAB_FLAGS = ['N', 'L', 'H', 'LL', 'HH'] as const;
export type LabFlag = (typeof LAB_FLAGS)[number];

/** The flags that mean a critical result (a high-priority alarm on the patient). */
export const CRITICAL_LAB_FLAGS: readonly LabFlag[] = ['LL', 'HH'];

/** The ranges a value is judged by: a value equal to a limit is inside it. Null: no such limit. */
export interface LabRanges {
  referenceLow: number | null;
  referenceHigh: number | null;
  criticalLow: number | null;
  criticalHigh: number | null;
}

/** One test of an order, with the catalogue entry as it was when ordered and, once resulted, its result. */
export interface LabOrderItem extends LabRanges {
  testId: string;
  code: string;
  name: string;
  unit: string;
  specimen: string;
  value: number | null;
  flag: LabFlag | null;
  comment: string | null;
}

export interface LabOrder {
  id: string;
  patientId: string;
  status: LabOrderStatus;
  priority: LabPriority;
  note: string | null;
  orderedBy: string;
  orderedAt: string;
  collectedBy: string | null;
  collectedAt: string | null;
  resultedBy: string | null;
  resultedAt: string | null;
  releasedBy: string | null;
  releasedAt: string | null;
  items: LabOrderItem[];
}
