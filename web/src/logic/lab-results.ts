// The patient panel's lab results: the recent results of a patient's orders, newest first, each
// with its flag (HL7 v2: N, L, H, LL, HH — computed by the server from the catalogue's ranges),
// and how many orders still wait for results. Pure: the caller passes the orders.
import { CRITICAL_LAB_FLAGS, PERMISSIONS, type LabFlag, type LabOrder, type Role } from '../../../server/domain/index.ts';

export interface LabResultRow {
  key: string;
  orderId: string;
  name: string;
  code: string;
  /** "7.1 mmol/L" */
  value: string;
  flag: LabFlag | null;
  /** "3.5–5.1", "≤ 14", "≥ 60", or '' without a reference range. */
  reference: string;
  /** When the result was entered, epoch ms. */
  at: number;
  released: boolean;
  comment: string | null;
}

/** The server's 'lab-orders:read': the panel loads a patient's orders only for a role that may read them. */
export function readsLabOrders(role: string | null | undefined): boolean {
  return role != null && (PERMISSIONS['lab-orders:read'] as readonly Role[]).includes(role as Role);
}

function range(low: number | null, high: number | null): string {
  if (low !== null && high !== null) return `${low}–${high}`;
  if (high !== null) return `≤ ${high}`;
  if (low !== null) return `≥ ${low}`;
  return '';
}

/** The results of resulted and released orders, newest first, at most `limit`. */
export function recentResults(orders: readonly LabOrder[], limit = 8): LabResultRow[] {
  const rows: LabResultRow[] = [];
  for (const o of orders) {
    if (o.status !== 'resulted' && o.status !== 'released') continue;
    const at = Date.parse(o.resultedAt ?? o.orderedAt);
    for (const i of o.items) {
      if (i.value === null) continue;
      rows.push({
        key: `${o.id}:${i.testId}`,
        orderId: o.id,
        name: i.name,
        code: i.code,
        value: i.unit ? `${i.value} ${i.unit}` : String(i.value),
        flag: i.flag,
        reference: range(i.referenceLow, i.referenceHigh),
        at,
        released: o.status === 'released',
        comment: i.comment,
      });
    }
  }
  return rows.sort((a, b) => b.at - a.at).slice(0, limit);
}

/** Orders whose results are not in yet: "2 orders pending (1 urgent)", or '' when none. */
export function pendingText(orders: readonly LabOrder[]): string {
  const pending = orders.filter((o) => o.status === 'ordered' || o.status === 'collected');
  if (pending.length === 0) return '';
  const urgent = pending.filter((o) => o.priority === 'urgent').length;
  return `${pending.length} order${pending.length === 1 ? '' : 's'} pending${urgent ? ` (${urgent} urgent)` : ''}`;
}

export type FlagLevel = 'critical' | 'abnormal' | 'normal' | 'none';

/** How a flag is shown: critical (LL/HH) in the high-priority alarm red, L/H amber, N plain. */
export function flagLevel(flag: LabFlag | null): FlagLevel {
  if (flag === null) return 'none';
  if (CRITICAL_LAB_FLAGS.includes(flag)) return 'critical';
  return flag === 'N' ? 'normal' : 'abnormal';
}

/** Words for a screen reader and a tooltip. */
export const FLAG_TEXT: Record<LabFlag, string> = {
  N: 'normal',
  L: 'below the reference range',
  H: 'above the reference range',
  LL: 'critically low',
  HH: 'critically high',
};
