// @vitest-environment happy-dom
// The patient panel's lab results: the pure rows (recent results of resulted and released orders,
// newest first, with flag, reference range and release state; pending orders counted) and
// <wp-lab-results> rendering them — a critical flag in the high-priority red, abnormal amber,
// normal plain; and how a latched critical-result alarm reads on the dashboards.
import { afterEach, describe, expect, it } from 'vitest';
import '../../web/src/components/wp-lab-results.ts';
import type { WpLabResults } from '../../web/src/components/wp-lab-results.ts';
import { flagLevel, pendingText, readsLabOrders, recentResults } from '../../web/src/logic/lab-results.ts';
import { CLEARED_TEXT, PRIORITY_STYLE, latchedText } from '../../web/src/logic/alarms.ts';
import type { LabOrder, LabOrderItem } from '../../server/domain/lab.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const at = (minAgo: number) => new Date(NOW - minAgo * 60_000).toISOString();

function item(over: Partial<LabOrderItem>): LabOrderItem {
  return { testId: 't', code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5, value: null, flag: null, comment: null, ...over };
}
function order(id: string, status: LabOrder['status'], minAgo: number, items: LabOrderItem[], priority: LabOrder['priority'] = 'routine'): LabOrder {
  const resulted = status === 'resulted' || status === 'released';
  return {
    id,
    patientId: 'p',
    status,
    priority,
    note: null,
    orderedBy: 'd',
    orderedAt: at(minAgo + 60),
    collectedBy: null,
    collectedAt: null,
    resultedBy: resulted ? 'l' : null,
    resultedAt: resulted ? at(minAgo) : null,
    releasedBy: null,
    releasedAt: status === 'released' ? at(minAgo) : null,
    items,
  };
}

const ORDERS: LabOrder[] = [
  order('o-old', 'released', 120, [item({ testId: 'k', value: 4.2, flag: 'N' }), item({ testId: 'hb', code: '718-7', name: 'Haemoglobin', unit: 'g/L', referenceLow: 130, referenceHigh: 170, criticalLow: null, criticalHigh: null, value: 176, flag: 'H' })]),
  order('o-new', 'resulted', 5, [item({ testId: 'k', value: 7.1, flag: 'HH', comment: 'repeat sent' })]),
  order('o-wait', 'collected', 1, [item({ testId: 'na', code: '2951-2', name: 'Sodium' })], 'urgent'),
  order('o-wait2', 'ordered', 0, [item({ testId: 'k' })]),
  order('o-none', 'released', 300, [item({ testId: 'x', code: 'LOCAL-1', name: 'Osmolality', unit: '', referenceLow: null, referenceHigh: null, criticalLow: null, criticalHigh: null, value: 290, flag: null })]),
];

describe('recent lab results', () => {
  it('lists the results of resulted and released orders, newest first, with flag, range and release', () => {
    const rows = recentResults(ORDERS);
    expect(rows.map((r) => [r.name, r.value, r.flag, r.reference, r.released, r.comment])).toEqual([
      ['Potassium', '7.1 mmol/L', 'HH', '3.5–5.1', false, 'repeat sent'],
      ['Potassium', '4.2 mmol/L', 'N', '3.5–5.1', true, null],
      ['Haemoglobin', '176 g/L', 'H', '130–170', true, null],
      ['Osmolality', '290', null, '', true, null],
    ]);
    expect(recentResults(ORDERS, 2)).toHaveLength(2);
    expect(recentResults([])).toEqual([]);
  });

  it('counts what is still waiting for results', () => {
    expect(pendingText(ORDERS)).toBe('2 orders pending (1 urgent)');
    expect(pendingText(ORDERS.slice(3, 4))).toBe('1 order pending');
    expect(pendingText(ORDERS.slice(0, 2))).toBe('');
  });

  it('grades the flags and follows the permission table', () => {
    expect((['LL', 'HH', 'L', 'H', 'N', null] as const).map(flagLevel)).toEqual(['critical', 'critical', 'abnormal', 'abnormal', 'normal', 'none']);
    expect(['doctor', 'nurse', 'lab', 'admin', 'kiosk', 'front-desk', null].map(readsLabOrders)).toEqual([true, true, true, true, false, false, false]);
  });

  it('says a latched critical-result alarm waits to be taken in, not that it cleared', () => {
    expect(latchedText({ kind: 'lab-critical' })).toBe('critical lab result — acknowledge once a clinician has it');
    expect(latchedText({ kind: 'news2' })).toBe(CLEARED_TEXT);
  });
});

describe('<wp-lab-results>', () => {
  afterEach(() => document.body.replaceChildren());

  async function mount(orders: LabOrder[], error = ''): Promise<ShadowRoot> {
    const el = document.createElement('wp-lab-results') as WpLabResults;
    el.orders = orders;
    el.now = NOW;
    el.error = error;
    document.body.append(el);
    await el.updateComplete;
    return el.shadowRoot!;
  }

  it('shows each result with its flag, the critical one in the high-priority red, and what is pending', async () => {
    const root = await mount(ORDERS);
    const rows = [...root.querySelectorAll('tbody tr')];
    expect(rows.map((r) => [r.getAttribute('data-level'), r.querySelector('th')!.textContent!.trim(), r.querySelector('.flag')!.textContent!.trim()])).toEqual([
      ['critical', 'Potassium', 'HH'],
      ['normal', 'Potassium', 'N'],
      ['abnormal', 'Haemoglobin', 'H'],
      ['none', 'Osmolality', '—'],
    ]);
    expect(rows[0]!.querySelector('.flag')!.getAttribute('title')).toBe('critically high');
    expect(rows.map((r) => r.querySelector('.when')!.getAttribute('data-released'))).toEqual(['no', 'yes', 'yes', 'yes']);
    expect(rows[0]!.querySelector('.when span')!.getAttribute('title')).toBe('not released to the patient yet');
    expect(rows[0]!.getAttribute('title')).toBe('repeat sent');
    const css = (root.host.constructor as typeof WpLabResults).styles!.toString();
    expect(css).toContain(`tr[data-level='critical'] td.flag { background: ${PRIORITY_STYLE.high.colour}`);
    expect([...root.querySelectorAll('.pending')].map((p) => p.textContent)).toEqual(['† not released to the patient yet', '2 orders pending (1 urgent)']);
  });

  it('says when there is nothing, and when loading failed', async () => {
    expect((await mount([])).querySelector('.none')!.textContent).toBe('No results.');
    document.body.replaceChildren();
    expect((await mount(ORDERS, 'Lab results could not be loaded: offline')).querySelector('.err')!.textContent).toBe('Lab results could not be loaded: offline');
  });
});
