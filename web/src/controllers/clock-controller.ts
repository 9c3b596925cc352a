// "Now" for a Lit element whose render depends on the time: ages ("3 min ago"), staleness,
// silence countdowns, a sliding chart window. One ticker per interval is shared by every
// element on the page, so all of them agree on the time and the page keeps a single timer;
// it starts with the first connected host and stops when the last one leaves the DOM.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export interface ClockControllerOptions {
  /** Tick period in ms (default 1000). Hosts with the same period share one timer. */
  intervalMs?: number;
  /** Called on every tick after `now` moved, before the host's update is requested. */
  tick?: (now: number) => void;
  /** Ask the host to re-render on every tick (default true). */
  update?: boolean;
}

type Listener = (now: number) => void;

interface Ticker {
  timer: ReturnType<typeof setInterval>;
  listeners: Set<Listener>;
}

const tickers = new Map<number, Ticker>();

function join(intervalMs: number, fn: Listener): () => void {
  let t = tickers.get(intervalMs);
  if (!t) {
    const listeners = new Set<Listener>();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const l of [...listeners]) l(now);
    }, intervalMs);
    t = { timer, listeners };
    tickers.set(intervalMs, t);
  }
  t.listeners.add(fn);
  const ticker = t;
  return () => {
    ticker.listeners.delete(fn);
    if (ticker.listeners.size === 0 && tickers.get(intervalMs) === ticker) {
      clearInterval(ticker.timer);
      tickers.delete(intervalMs);
    }
  };
}

/** How many shared timers are running (for tests: none once every host has gone). */
export function runningClocks(): number {
  return tickers.size;
}

export class ClockController implements ReactiveController {
  /** The time of the last tick (or of the host's connection), epoch ms. */
  now = Date.now();
  readonly intervalMs: number;
  private leave: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: ClockControllerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    host.addController(this);
  }

  hostConnected(): void {
    // Back in the DOM after a while: what it shows must not be aged from when it left.
    this.now = Date.now();
    this.leave ??= join(this.intervalMs, (now) => this.onTick(now));
  }

  hostDisconnected(): void {
    this.leave?.();
    this.leave = null;
  }

  private onTick(now: number): void {
    this.now = now;
    this.options.tick?.(now);
    if (this.options.update !== false) this.host.requestUpdate();
  }
}
