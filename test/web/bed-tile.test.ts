// @vitest-environment happy-dom
// Component tests of the bed tile: numbers, freshness, "no signal", NEWS2 band, alarm priority,
// flashing only while unanswered, silence countdown, observations due.
import { afterEach, describe, expect, it } from 'vitest';
import '../../web/src/components/wp-bed-tile.ts';
import type { WpBedTile } from '../../web/src/components/wp-bed-tile.ts';
import type { PatientView } from '../../web/src/store.ts';
import type { AlertEvent } from '../../server/domain/events.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function patient(over: Partial<PatientView> = {}): PatientView {
  const at = (value: number | string | boolean, ageMs = 1000, source = 'device') => ({ value, ts: NOW - ageMs, source });
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'Ada Lovelace',
    ward: 'A',
    bed: '7',
    values: { hr: at(72), spo2: at(97), rr: at(14), sbp: at(121), dbp: at(79), temp: at(36.8), o2: at(false), acvpu: at('A') },
    score: { patientId: 'p', ts: NOW, news2: { total: 0, band: 'low', partial: false, missing: [], parameters: { rr: 0, spo2: 0, o2: 0, sbp: 0, hr: 0, acvpu: 0, temp: 0 } } },
    alerts: [],
    devices: [{ id: 'd1', status: 'online' }],
    recent: {},
    rev: 1,
    ...over,
  };
}

function alert(priority: AlertEvent['priority'], ts: number, message = `${priority} alarm`, over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: `${priority}-${ts}`,
    patientId: 'p',
    key: 'limit:hr',
    kind: 'limit',
    category: 'physiological',
    parameter: 'hr',
    value: 1,
    limit: 1,
    rule: 'hr > 1',
    priority,
    state: 'active',
    message,
    ts,
    endedAt: null,
    updatedAt: ts,
    conditionActive: true,
    latching: priority === 'high',
    silencedUntil: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    acknowledgedValue: null,
    escalationLevel: 0,
    deviceId: null,
    ...over,
  };
}

async function mount(p: PatientView, kiosk = false): Promise<{ el: WpBedTile; root: ShadowRoot }> {
  const el = document.createElement('wp-bed-tile');
  el.patient = p;
  el.now = NOW;
  el.kiosk = kiosk;
  document.body.append(el);
  await el.updateComplete;
  return { el, root: el.shadowRoot! };
}

const text = (root: ShadowRoot, sel: string) => root.querySelector(sel)?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

afterEach(() => {
  document.body.innerHTML = '';
});

describe('<wp-bed-tile>', () => {
  it('shows bed, name and the live numbers, linking to the patient panel', async () => {
    const { root } = await mount(patient());
    expect(text(root, '.bed')).toBe('7');
    expect(text(root, '.name')).toBe('Ada Lovelace');
    expect(text(root, '.v.hr .num')).toMatch(/^72/);
    expect(text(root, '.v.spo2 .num')).toMatch(/^97/);
    expect(root.textContent).toContain('121/79');
    expect(root.textContent).toContain('36.8');
    expect(root.querySelector('a.tile')?.getAttribute('href')).toBe('/patient/00000000-0000-4000-8000-000000000001');
    expect(root.querySelector('.stale')).toBeNull();
  });

  it('greys a streamed value older than 30 s and shows its age; a recent manual value stays live', async () => {
    const p = patient();
    p.values.hr = { value: 80, ts: NOW - 95_000, source: 'device' };
    p.values.temp = { value: 37.9, ts: NOW - 2 * 3600_000, source: 'manual' };
    const { root } = await mount(p);
    const hr = root.querySelector('.v.hr')!;
    expect(hr.classList.contains('stale')).toBe(true);
    expect(hr.textContent).toContain('1m ago');
    expect(root.querySelector('[aria-label="Temp"]')!.classList.contains('stale')).toBe(false);
  });

  it('says NO SIGNAL and greys every streamed number when no device is online', async () => {
    const { root } = await mount(patient({ devices: [{ id: 'd1', status: 'offline' }] }));
    expect(text(root, '.nosignal')).toBe('NO SIGNAL');
    expect(root.querySelector('.v.hr')!.classList.contains('stale')).toBe(true);
    expect(root.querySelector('.v.spo2')!.classList.contains('stale')).toBe(true);
  });

  it('colours a complete NEWS2 score by its band', async () => {
    const p = patient({ score: { patientId: 'p', ts: NOW, freshUntil: NOW + 30_000, news2: { total: 7, band: 'high', partial: false, missing: [], parameters: { rr: 3, spo2: 3, o2: 0, sbp: 0, hr: 1, acvpu: 0, temp: 0 } } } });
    const { root } = await mount(p);
    const badge = root.querySelector<HTMLElement>('.news2')!;
    expect(badge.textContent!.trim()).toBe('NEWS2 7');
    expect(badge.getAttribute('style')).toContain('#c62828');
  });

  it('shows an incomplete score as a lower bound with its coverage, never in a band colour', async () => {
    const p = patient({
      score: { patientId: 'p', ts: NOW, freshUntil: NOW + 30_000, news2: { total: 2, band: 'low', partial: true, missing: ['o2', 'acvpu'], parameters: { rr: 2, spo2: 0, o2: null, sbp: 0, hr: 0, acvpu: null, temp: 0 } } },
    });
    const { root } = await mount(p);
    const badge = root.querySelector<HTMLElement>('.news2')!;
    expect(badge.textContent!.trim()).toBe('NEWS2 ≥ 2 · 5/7');
    expect(badge.getAttribute('style') ?? '').not.toContain('#2e7d32'); // not the green of "low risk"
    expect(badge.getAttribute('data-state')).toBe('partial');
    expect(badge.getAttribute('title')).toContain('missing air or oxygen, consciousness (ACVPU)');
  });

  it('greys the score with its age once every value it came from is stale', async () => {
    const p = patient({
      score: { patientId: 'p', ts: NOW - 600_000, freshUntil: NOW - 60_000, dataAt: NOW - 12 * 60_000, news2: { total: 1, band: 'low', partial: false, missing: [], parameters: { rr: 0, spo2: 1, o2: 0, sbp: 0, hr: 0, acvpu: 0, temp: 0 } } },
    });
    const badge = (await mount(p)).root.querySelector<HTMLElement>('.news2')!;
    expect(badge.getAttribute('data-state')).toBe('stale');
    expect(badge.textContent!.trim()).toBe('NEWS2 1 · 12m ago');
    expect(badge.getAttribute('style') ?? '').not.toContain('#2e7d32');
  });

  it('never shows "Air A" for a patient nobody assessed', async () => {
    const { o2: _o2, acvpu: _a, ...values } = patient().values;
    const { root } = await mount(patient({ values }));
    const cell = root.querySelector('[aria-label="Oxygen and consciousness"] .num')!;
    expect(cell.textContent!.trim()).toBe('– –');
  });

  it('shows the highest-priority alarm and how many others are open (+2)', async () => {
    const { root } = await mount(patient({ alerts: [alert('low', NOW - 10), alert('high', NOW - 5_000, 'SpO2 low 84 %'), alert('medium', NOW)] }));
    expect(text(root, '.alarm-flag')).toBe('SpO2 low 84 %');
    expect(text(root, '.more')).toBe('+2');
  });

  it('stands out by the highest active alarm priority, showing that alarm', async () => {
    const { root } = await mount(patient({ alerts: [alert('low', NOW - 10), alert('high', NOW - 5_000, 'SpO2 low 84 %'), alert('medium', NOW)] }));
    const tile = root.querySelector('.tile')!;
    expect(tile.classList.contains('prio-high')).toBe(true);
    expect(tile.getAttribute('data-priority')).toBe('high');
    expect(text(root, '.alarm-flag')).toBe('SpO2 low 84 %');
    expect(tile.getAttribute('aria-label')).toContain('High priority alarm');
  });

  it('uses the steady low-priority style, and none without alarms', async () => {
    expect((await mount(patient({ alerts: [alert('low', NOW)] }))).root.querySelector('.tile')!.classList.contains('prio-low')).toBe(true);
    document.body.innerHTML = '';
    expect((await mount(patient())).root.querySelector('.tile')!.getAttribute('data-priority')).toBe('none');
  });

  it('is not a link in kiosk mode (no mouse on a wall display)', async () => {
    const { root } = await mount(patient(), true);
    expect(root.querySelector('a')).toBeNull();
    expect(root.querySelector('article.tile')).not.toBeNull();
  });

  it('flashes only while the top alarm is unanswered; acknowledged stays steady in its colour', async () => {
    const active = (await mount(patient({ alerts: [alert('high', NOW)] }))).root.querySelector('.tile')!;
    expect(active.classList.contains('flash')).toBe(true);
    document.body.innerHTML = '';
    const acked = (await mount(patient({ alerts: [alert('high', NOW, 'NEWS2 7', { state: 'acknowledged', acknowledgedAt: NOW })] }))).root.querySelector('.tile')!;
    expect(acked.classList.contains('flash')).toBe(false);
    expect(acked.classList.contains('prio-high')).toBe(true);
    expect(acked.getAttribute('data-priority')).toBe('high');
    expect(acked.getAttribute('aria-label')).toContain('High priority alarm, acknowledged');
    document.body.innerHTML = '';
    const low = (await mount(patient({ alerts: [alert('low', NOW)] }))).root.querySelector('.tile')!;
    expect(low.classList.contains('flash')).toBe(false);
  });

  it('does not let an acknowledged alarm hide an unanswered one of the same priority', async () => {
    const { root } = await mount(patient({ alerts: [alert('high', NOW, 'older, unanswered'), alert('high', NOW + 1, 'newer, acknowledged', { id: 'acked', state: 'acknowledged' })] }));
    expect(root.querySelector('.tile')!.classList.contains('flash')).toBe(true);
    expect(text(root, '.alarm-flag')).toBe('older, unanswered');
  });

  it('shows the silence countdown, steady', async () => {
    const { root } = await mount(patient({ alerts: [alert('medium', NOW - 20_000, 'RR high 26', { state: 'silenced', silencedUntil: NOW + 102_000 })] }));
    // a drawn bell-off icon, not the 🔕 emoji: wall displays may lack an emoji font
    expect(root.querySelector('.silenced svg.bell-off')).not.toBeNull();
    expect(text(root, '.silenced')).toBe('1:42');
    const tile = root.querySelector('.tile')!;
    expect(tile.classList.contains('flash')).toBe(false);
    expect(tile.classList.contains('prio-medium')).toBe(true);
    expect(tile.getAttribute('aria-label')).toContain('silence ends in 1:42');
  });

  it('marks a latched alarm whose condition has cleared', async () => {
    const { root } = await mount(patient({ alerts: [alert('high', NOW, 'NEWS2 7', { conditionActive: false })] }));
    expect(text(root, '.alarm-flag')).toBe('cleared: NEWS2 7');
    expect(root.querySelector('.tile')!.getAttribute('aria-label')).toContain('cleared — acknowledge to dismiss');
  });

  it('shows when manual observations are due, overdue in the low-priority cyan, nothing under continuous monitoring', async () => {
    const withObs = (dueAt: number | null, interval: number | 'continuous') => {
      const p = patient();
      p.score = { ...p.score!, observations: { dueAt, interval } };
      return p;
    };
    let root = (await mount(withObs(NOW + 42 * 60_000, 3600_000))).root;
    expect(text(root, '.obs')).toBe('obs due 42m');
    expect(root.querySelector('.obs')!.classList.contains('overdue')).toBe(false);
    document.body.innerHTML = '';
    root = (await mount(withObs(NOW - 5 * 60_000, 3600_000))).root;
    expect(text(root, '.obs')).toBe('obs overdue 5m');
    expect(root.querySelector('.obs')!.classList.contains('overdue')).toBe(true);
    const css = (customElements.get('wp-bed-tile') as unknown as { elementStyles: { cssText: string }[] }).elementStyles.map((x) => x.cssText).join('\n');
    expect(css).toMatch(/\.obs\.overdue\s*\{[^}]*#26c6da/);
    document.body.innerHTML = '';
    root = (await mount(withObs(null, 'continuous'))).root;
    expect(root.querySelector('.obs')).toBeNull();
  });
});
