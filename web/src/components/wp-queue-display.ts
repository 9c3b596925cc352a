// The waiting-room display of one doctor's queue (/queue/{doctorId}): the token being called and
// the patient's first name and initial in very large type, announced aloud with the browser's
// speech synthesis on every new call. Its own Socket.IO subscription (`{ queue: doctorId }`,
// room `queue:{doctorId}`), re-made after every reconnect, so a wall display left running for
// days keeps up. Chromium speaks without a click only when started with
// --autoplay-policy=no-user-gesture-required (the kiosk launch line, docs/api.md).
import { LitElement, css, html, nothing } from 'lit';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, QueueCalledEvent, QueueState, ServerToClientEvents } from '../../../server/domain/index.ts';
import { api, session } from '../api.ts';
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

  private socket: Socket<ServerToClientEvents, ClientToServerEvents> | null = null;
  private flashTimer: number | undefined;

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

  override connectedCallback(): void {
    super.connectedCallback();
    this.connect();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.socket?.close();
    this.socket = null;
    clearTimeout(this.flashTimer);
  }

  private connect(): void {
    const token = session.token;
    if (!token) return;
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = io({ auth: { token }, transports: ['websocket'], reconnectionDelayMax: 5000 });
    this.socket = s;
    s.on('connect', () => void this.subscribe());
    s.on('disconnect', (reason) => {
      this.live = false;
      // socket.io-client does not retry a server-side disconnect by itself; a wall display must.
      if (reason === 'io server disconnect') setTimeout(() => s.connect(), 2000);
    });
    s.on('connect_error', () => (this.live = false));
    s.on('queue:called', (ev) => {
      if (ev.doctorId !== this.doctorId) return;
      this.show(ev, true);
    });
  }

  /** A display set up by room (/queue/3) finds the doctor holding that room. */
  private async resolveRoom(): Promise<boolean> {
    if (/^[0-9a-f-]{36}$/.test(this.doctorId)) return true;
    try {
      const r = await api<{ items: { id: string }[] }>('GET', `/api/doctors?room=${encodeURIComponent(this.doctorId)}&limit=1`);
      if (!r.items[0]) {
        this.error = `no doctor holds room ${this.doctorId}`;
        return false;
      }
      this.doctorId = r.items[0].id;
      return true;
    } catch (err) {
      this.error = (err as Error).message;
      return false;
    }
  }

  private async subscribe(): Promise<void> {
    const s = this.socket;
    if (!s || !(await this.resolveRoom())) return;
    try {
      const res = await s.timeout(10_000).emitWithAck('subscribe', { queue: this.doctorId });
      if (!res.ok) {
        this.error = res.error.message;
        return;
      }
      const next = res.data.queue ?? null;
      const before = this.state?.current?.calledAt;
      // After a reconnect, a call made while we were away is announced once; the first load is not.
      const missed = this.state !== null && next?.current && next.current.calledAt !== before;
      this.state = next;
      this.error = '';
      this.live = true;
      if (missed && next?.current) this.show(next.current, true);
    } catch {
      this.live = false;
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
