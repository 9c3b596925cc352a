// @vitest-environment happy-dom
// Component tests of <wp-alarm-actions>: which buttons whom, enabled when the lifecycle accepts
// the action, the command sent through the injected `act`, and the server's refusal shown inline.
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../web/src/components/wp-alarm-actions.ts';
import type { ActFn, WpAlarmActions } from '../../web/src/components/wp-alarm-actions.ts';
import { session } from '../../web/src/api.ts';
import type { AlertEvent } from '../../server/domain/events.ts';
import type { Role } from '../../server/domain/roles.ts';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

function alarm(over: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    patientId: '00000000-0000-4000-8000-000000000001',
    key: 'news2:total',
    kind: 'news2',
    category: 'physiological',
    priority: 'high',
    parameter: null,
    value: 7,
    limit: 7,
    rule: 'NEWS2 ≥ 7',
    message: 'NEWS2 7',
    state: 'active',
    ts: NOW,
    endedAt: null,
    updatedAt: NOW,
    conditionActive: true,
    latching: true,
    silencedUntil: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    acknowledgedValue: null,
    escalationLevel: 0,
    deviceId: null,
    ...over,
  };
}

function loginAs(role: Role | null): void {
  // as api.ts keeps it: the token and the user in sessionStorage
  if (role === null) session.clear();
  else session.set('test-token', { id: 'u1', role, email: `${role}@test.local`, name: `A ${role}` });
}

async function mount(a: AlertEvent, act: ActFn = vi.fn<ActFn>(async (_x, _id) => a)): Promise<{ el: WpAlarmActions; root: ShadowRoot }> {
  const el = document.createElement('wp-alarm-actions');
  el.alarm = a;
  el.bed = '7';
  el.act = act;
  document.body.append(el);
  await el.updateComplete;
  return { el, root: el.shadowRoot! };
}

const buttons = (root: ShadowRoot) =>
  [...root.querySelectorAll('button')].map((b) => ({ name: b.getAttribute('aria-label'), text: b.textContent!.trim(), enabled: b.getAttribute('aria-disabled') === 'false' }));
const button = (root: ShadowRoot, action: string) => root.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`)!;

afterEach(() => {
  document.body.innerHTML = '';
  session.clear();
});

describe('<wp-alarm-actions>', () => {
  it.each<Role>(['admin', 'kiosk', 'front-desk'])('shows no buttons to a %s', async (role) => {
    loginAs(role);
    const { root } = await mount(alarm());
    expect(root.querySelectorAll('button')).toHaveLength(0);
  });

  it('shows no buttons when nobody is logged in', async () => {
    loginAs(null);
    expect((await mount(alarm())).root.querySelectorAll('button')).toHaveLength(0);
  });

  it.each<Role>(['nurse', 'doctor'])('offers a %s the three actions, named with the bed', async (role) => {
    loginAs(role);
    const { root } = await mount(alarm());
    expect(buttons(root)).toEqual([
      { name: 'Acknowledge bed 7: NEWS2 7', text: 'Acknowledge', enabled: true },
      { name: 'Silence 2 min bed 7: NEWS2 7', text: 'Silence 2 min', enabled: true },
      { name: 'Resolve bed 7: NEWS2 7', text: 'Resolve', enabled: false }, // the condition is still present
    ]);
  });

  it.each<[AlertEvent['state'], boolean, boolean[]]>([
    ['active', true, [true, true, false]],
    ['acknowledged', true, [false, true, false]],
    ['silenced', true, [true, false, false]],
    ['active', false, [true, true, true]],
    ['silenced', false, [true, false, true]],
  ])('enables per state: %s, condition active %s → %j', async (state, conditionActive, enabled) => {
    loginAs('nurse');
    const { root } = await mount(alarm({ state, conditionActive }));
    expect(buttons(root).map((b) => b.enabled)).toEqual(enabled);
  });

  it('sends the command through `act` and announces the updated alarm', async () => {
    loginAs('nurse');
    const acked = alarm({ state: 'acknowledged', acknowledgedAt: NOW + 1000, updatedAt: NOW + 1000 });
    const act = vi.fn<ActFn>(async () => acked);
    const { el, root } = await mount(alarm(), act);
    const seen: AlertEvent[] = [];
    document.body.addEventListener('alarm-acted', (e) => seen.push((e as CustomEvent<AlertEvent>).detail));
    button(root, 'ack').click();
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(act).toHaveBeenCalledWith('ack', '11111111-1111-4111-8111-111111111111');
    expect(seen[0]!.state).toBe('acknowledged');
    await el.updateComplete;
    expect(root.querySelector('[role="alert"]')).toBeNull();
  });

  it('does not send an action the state does not allow', async () => {
    loginAs('doctor');
    const act = vi.fn<ActFn>(async (_a, _id) => alarm());
    const { root } = await mount(alarm({ state: 'acknowledged' }), act);
    button(root, 'ack').click();
    button(root, 'resolve').click();
    button(root, 'silence').click();
    expect(act).toHaveBeenCalledTimes(1);
    expect(act).toHaveBeenCalledWith('silence', '11111111-1111-4111-8111-111111111111');
  });

  it('disables every button while a command is on its way', async () => {
    loginAs('nurse');
    let answer!: (a: AlertEvent) => void;
    const act = vi.fn<ActFn>(() => new Promise<AlertEvent>((r) => (answer = r)));
    const { el, root } = await mount(alarm(), act);
    button(root, 'silence').click();
    await el.updateComplete;
    expect(buttons(root).map((b) => b.enabled)).toEqual([false, false, false]);
    expect(button(root, 'silence').getAttribute('aria-busy')).toBe('true');
    button(root, 'ack').click();
    expect(act).toHaveBeenCalledTimes(1);
    answer(alarm({ state: 'silenced', silencedUntil: NOW + 120_000 }));
    await vi.waitFor(() => expect(button(root, 'ack').getAttribute('aria-disabled')).toBe('false'));
  });

  it("shows the server's refusal inline, and clears it on the next success", async () => {
    loginAs('nurse');
    const act = vi.fn<ActFn>().mockRejectedValueOnce(new Error('condition still present: NEWS2 7')).mockResolvedValueOnce(alarm({ state: 'acknowledged' }));
    const { el, root } = await mount(alarm({ conditionActive: false }), act);
    button(root, 'resolve').click();
    await vi.waitFor(() => expect(root.querySelector('[role="alert"]')?.textContent).toBe('condition still present: NEWS2 7'));
    button(root, 'ack').click();
    await vi.waitFor(() => expect(act).toHaveBeenCalledTimes(2));
    await el.updateComplete;
    await vi.waitFor(() => expect(root.querySelector('[role="alert"]')).toBeNull());
  });
});
