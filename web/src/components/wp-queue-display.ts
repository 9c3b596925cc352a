// The waiting-room display of one doctor's queue (/queue/{doctorId}): the token being called and
// the patient's first name and initial in very large type, announced aloud with the browser's
// speech synthesis on every new call. Subscribes to `{ queue: doctorId }` (room
// `queue:{doctorId}`) on the page's one live connection, again after every reconnect
// (LiveSubscriptionController), so a wall display left running for days keeps up. Chromium speaks without a click only when started with
// --autoplay-policy=no-user-gesture-required (the kiosk launch line, docs/api.md).
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { QueueCalledEvent, QueueState } from '../../../server/domain/index.ts';
import { api } from '../api.ts';
import { onConnectionState } from '../context.ts';
import { LiveSubscriptionController } from '../controllers/live-subscription-controller.ts';
import { SubscriptionRefused, type LiveClient } from '../realtime.ts';
import { theme } from '../styles.ts';

/** What is said aloud: "Token 12, Ada L., room 3". */
export function announcement(c: QueueCalledEvent): string {
  return [`Token ${c.tokenNumber}`, c.patientName, c.room ? `room ${c.room}` : ''].filter(Boolean).join(', ');
}

export class WpQueueDisplay extends LitElement {
  static override properties = {
    doctorId: { type: String },
    state: { state: true },
    live: { state: true },
    error: { state: true },
    flash: { state: true },
  };
  declare doctorId: string;
  declare state: QueueState | null;
  declare live: boolean;
  declare error: string;
  declare flash: boolean;

  /** The doctor this display shows: `doctorId` itself, or the doctor holding room `doctorId`. */
  private resolved: { key: string; id: string } | null = null;
  private flashTimer: number | undefined;
  private readonly room = new LiveSubscriptionController(this, {
    key: () => this.doctorId,
    subscribe: ({ client, key }) => {
      let doctor: string | null = null;
      let active = true;
      const offCalled = client.listen('queue:called', (ev) => {
        if (doctor !== null && ev.doctorId === doctor) this.show(ev, true);
      });
      const offState = onConnectionState((s) => {
        if (s !== 'live') this.live = false;
      });
      void this.subscribe(client, key).then((id) => {
        doctor = id;
        // Left (another doctor, or off the page) while the answer was on its way.
        if (!active && id !== null) client.unsubscribe({ queue: id });
      });
      return () => {
        active = false;
        offCalled();
        offState();
        if (doctor !== null) client.unsubscribe({ queue: doctor });
      };
    },
  });

  constructor() {
    super();
    this.doctorId = '';
    this.state = null;
    this.live = false;
    this.error = '';
    this.flash = false;
  }

  static override styles = [
    theme,
    css`
      :host { display: flex; flex-direction: column; height: 100%; min-height: 100vh; box-sizing: border-box; background: #05080f; padding: 3vh 4vw; }
      header { display: flex; justify-content: space-between; align-items: baseline; font-size: clamp(1.2rem, 3vw, 2.6rem); color: var(--muted); }
      header .doctor { color: var(--text); font-weight: 700; }
      main { flex: 1; display: flex; flex-direction: column; align-items: center; justify-content: center; text-align: center; }
      .label { font-size: clamp(1.4rem, 4vw, 3.5rem); color: var(--muted); letter-spacing: 0.1em; text-transform: uppercase; }
      .token { font-size: clamp(8rem, 32vh, 24rem); font-weight: 900; line-height: 1; color: #ffd54f; font-variant-numeric: tabular-nums; }
      .name { font-size: clamp(3rem, 12vh, 9rem); font-weight: 800; line-height: 1.1; }
      .flash .token { animation: pulse 1s ease-in-out 3; }
      @keyframes pulse { 50% { color: #fff; transform: scale(1.05); } }
      .idle { font-size: clamp(2rem, 8vh, 6rem); color: var(--muted); }
      footer { display: flex; justify-content: space-between; font-size: clamp(1rem, 2.4vw, 2rem); color: var(--muted); }
      .offline { color: #fff; background: #b71c1c; padding: 0.2em 0.6em; border-radius: 6px; font-weight: 700; }
      .error { color: var(--danger); font-size: 2rem; }
    `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.flashTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another doctor on the same display: the last one's call is not this one's (nor "missed").
    if (changed.has('doctorId') && changed.get('doctorId') !== undefined) {
      this.state = null;
      this.error = '';
    }
  }

  /** A display set up by room (/queue/3) finds the doctor holding that room. */
  private async resolveRoom(key: string): Promise<string | null> {
    if (/^[0-9a-f-]{36}$/.test(key)) return key;
    if (this.resolved?.key === key) return this.resolved.id;
    try {
      const r = await api<{ items: { id: string }[] }>('GET', `/api/doctors?room=${encodeURIComponent(key)}&limit=1`);
      if (!r.items[0]) {
        this.error = `no doctor holds room ${key}`;
        return null;
      }
      this.resolved = { key, id: r.items[0].id };
      return r.items[0].id;
    } catch (err) {
      this.error = (err as Error).message;
      return null;
    }
  }

  /** Subscribe to the doctor's queue; resolves with the doctor's id once subscribed (to let go of it), else null. */
  private async subscribe(client: LiveClient, key: string): Promise<string | null> {
    const id = await this.resolveRoom(key);
    if (id === null || key !== this.doctorId) return null;
    try {
      const res = await client.subscribe({ queue: id });
      // Not connected yet: subscribed again on connect; the hold is kept and let go as usual.
      if (res === null) return id;
      if (key !== this.doctorId) return id;
      const next = res.queue ?? null;
      const before = this.state?.current?.calledAt;
      // After a reconnect, a call made while we were away is announced once; the first load is not.
      const missed = this.state !== null && next?.current && next.current.calledAt !== before;
      this.state = next;
      this.error = '';
      this.live = true;
      if (missed && next?.current) this.show(next.current, true);
      return id;
    } catch (err) {
      if (err instanceof SubscriptionRefused) this.error = err.message;
      else this.live = false;
      return id;
    }
  }

  private show(call: QueueCalledEvent, announce: boolean): void {
    const waiting = this.state ? Math.max(0, this.state.waiting - (this.state.current?.calledAt === call.calledAt ? 0 : 1)) : 0;
    this.state = this.state ? { ...this.state, current: call, waiting } : { doctorId: call.doctorId, doctorName: '', room: call.room, date: call.date, current: call, waiting };
    this.flash = true;
    clearTimeout(this.flashTimer);
    this.flashTimer = window.setTimeout(() => (this.flash = false), 3500);
    if (announce) this.speak(announcement(call));
  }

  private speak(text: string): void {
    const synth = (globalThis as { speechSynthesis?: SpeechSynthesis }).speechSynthesis;
    if (!synth || typeof SpeechSynthesisUtterance === 'undefined') return;
    try {
      const u = new SpeechSynthesisUtterance(text);
      u.rate = 0.9;
      synth.speak(u);
    } catch {
      /* a display without a voice still shows the token */
    }
  }

  override render() {
    const st = this.state;
    const c = st?.current ?? null;
    return html`
      <header>
        <span class="doctor">${st?.doctorName ?? ''}</span>
        <span>${st?.room ? `Room ${st.room}` : ''}</span>
      </header>
      <main class=${this.flash ? 'flash' : ''} aria-live="assertive">
        ${this.error
          ? html`<p class="error" role="alert">${this.error}</p>`
          : c
            ? html`<div class="label">Now serving</div>
                <div class="token" data-token=${c.tokenNumber}>${c.tokenNumber}</div>
                <div class="name">${c.patientName}</div>`
            : html`<div class="idle">Please wait to be called</div>`}
      </main>
      <footer>
        <span>${st ? `${st.waiting} waiting` : ''}</span>
        ${this.live ? nothing : html`<span class="offline" role="status">Reconnecting…</span>`}
      </footer>
    `;
  }
}
customElements.define('wp-queue-display', WpQueueDisplay);
declare global {
  interface HTMLElementTagNameMap {
    'wp-queue-display': WpQueueDisplay;
  }
}
