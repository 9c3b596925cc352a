// @vitest-environment happy-dom
// ClockController (web/src/controllers/clock-controller.ts): one shared ticking "now" per
// interval, host updates on every tick, nothing left running once the hosts have gone.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { LitElement, html } from 'lit';
import { ClockController, runningClocks } from '../../web/src/controllers/clock-controller.ts';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** A host driven by hand: the lifecycle calls Lit would make. */
function fakeHost() {
  const controllers: ReactiveController[] = [];
  const host = {
    addController: (c: ReactiveController) => void controllers.push(c),
    removeController: () => undefined,
    requestUpdate: vi.fn(),
    updateComplete: Promise.resolve(true),
    connect: () => controllers.forEach((c) => c.hostConnected?.()),
    disconnect: () => controllers.forEach((c) => c.hostDisconnected?.()),
  };
  return host as typeof host & ReactiveControllerHost;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
  document.body.innerHTML = '';
});

describe('ClockController', () => {
  it('ticks every second by default and asks the host to update', () => {
    const host = fakeHost();
    const clock = new ClockController(host);
    host.connect();
    expect(clock.now).toBe(T0);
    vi.advanceTimersByTime(999);
    expect(host.requestUpdate).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(clock.now).toBe(T0 + 1000);
    expect(host.requestUpdate).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(3000);
    expect(clock.now).toBe(T0 + 4000);
    expect(host.requestUpdate).toHaveBeenCalledTimes(4);
    host.disconnect();
  });

  it('takes its interval from the options, and calls `tick` with the time', () => {
    const host = fakeHost();
    const tick = vi.fn();
    const clock = new ClockController(host, { intervalMs: 250, tick });
    host.connect();
    vi.advanceTimersByTime(1000);
    expect(tick.mock.calls.map(([t]) => t - T0)).toEqual([250, 500, 750, 1000]);
    expect(clock.now).toBe(T0 + 1000);
    expect(host.requestUpdate).toHaveBeenCalledTimes(4);
    host.disconnect();
  });

  it('with update: false only calls `tick`', () => {
    const host = fakeHost();
    const tick = vi.fn();
    new ClockController(host, { tick, update: false });
    host.connect();
    vi.advanceTimersByTime(3000);
    expect(tick).toHaveBeenCalledTimes(3);
    expect(host.requestUpdate).not.toHaveBeenCalled();
    host.disconnect();
  });

  it('stops in hostDisconnected: no tick, no update, no timer left', () => {
    const host = fakeHost();
    const clock = new ClockController(host);
    host.connect();
    vi.advanceTimersByTime(2000);
    host.disconnect();
    expect(runningClocks()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(clock.now).toBe(T0 + 2000);
    expect(host.requestUpdate).toHaveBeenCalledTimes(2);
  });

  it('is shared: hosts with the same interval run on one timer and agree on the time', () => {
    const a = fakeHost();
    const b = fakeHost();
    const c = fakeHost();
    const ca = new ClockController(a);
    const cb = new ClockController(b);
    const cc = new ClockController(c, { intervalMs: 500 });
    a.connect();
    vi.advanceTimersByTime(300);
    b.connect();
    c.connect();
    expect(runningClocks()).toBe(2);
    expect(vi.getTimerCount()).toBe(2);
    vi.advanceTimersByTime(700);
    // b joined late but ticks with a: same instant, same number
    expect(cb.now).toBe(ca.now);
    expect(ca.now).toBe(T0 + 1000);
    expect(b.requestUpdate).toHaveBeenCalledTimes(1);
    a.disconnect();
    vi.advanceTimersByTime(1000);
    expect(cb.now).toBe(T0 + 2000);
    expect(ca.now).toBe(T0 + 1000);
    expect(runningClocks()).toBe(2);
    b.disconnect();
    expect(runningClocks()).toBe(1);
    expect(cc.now).toBe(T0 + 1800); // its own timer, started at +300
    c.disconnect();
    expect(runningClocks()).toBe(0);
  });

  it('starts again from the current time when the host comes back', () => {
    const host = fakeHost();
    const clock = new ClockController(host);
    host.connect();
    host.disconnect();
    vi.setSystemTime(T0 + 60_000);
    host.connect();
    // an age shown at once is not an hour old
    expect(clock.now).toBe(T0 + 60_000);
    vi.advanceTimersByTime(1000);
    expect(clock.now).toBe(T0 + 61_000);
    host.connect(); // connected twice: still one subscription
    expect(vi.getTimerCount()).toBe(1);
    host.disconnect();
    expect(runningClocks()).toBe(0);
  });

  it('re-renders a Lit element with the new time and stops when it leaves the DOM', async () => {
    class ClockTestElement extends LitElement {
      readonly clock = new ClockController(this);
      override render() {
        return html`<span>${this.clock.now - T0}</span>`;
      }
    }
    customElements.define('clock-test-element', ClockTestElement);
    const el = document.createElement('clock-test-element') as ClockTestElement;
    document.body.append(el);
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).toBe('0');
    vi.advanceTimersByTime(2000);
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).toBe('2000');
    el.remove();
    expect(runningClocks()).toBe(0);
  });
});
