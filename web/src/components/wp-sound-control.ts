// The sound control of a view that plays alarm signals (AlarmSoundController): a small "sound on"
// while the room can hear alarms, and a large, high-contrast button readable across a ward when it
// cannot — "sound off — click to enable" when the browser blocks sound (autoplay policy), "sound
// muted — click to unmute" when someone muted this display. A silence shows its countdown.
// Icons are drawn: a wall display may have no emoji font.
import { LitElement, css, html, nothing, svg } from 'lit';
import type { SoundState } from '../controllers/alarm-sound-controller.ts';
import type { Priority } from '../logic/alarm-sound.ts';
import { formatCountdown } from '../logic/alarms.ts';
import { theme } from '../styles.ts';

const SPEAKER = svg`<path fill="currentColor" d="M3 9h4l5-4v14l-5-4H3z"/>`;
const SOUND_ON = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
  ${SPEAKER}${svg`<path d="M15.5 8.5a5 5 0 0 1 0 7M18.5 5.5a9 9 0 0 1 0 13" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>`}
</svg>`;
const SOUND_OFF = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
  ${SPEAKER}${svg`<path d="M15.5 9l6 6M21.5 9l-6 6" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>`}
</svg>`;
/** A bell struck through: audio paused (IEC 60417-5576 style), as on the bed tile. */
const BELL_OFF = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
  ${svg`<path fill="currentColor" d="M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.07-1.64-5.64-4.5-6.32V4a1.5 1.5 0 0 0-3 0v.68C7.63 5.36 6 7.92 6 11v5l-2 2v1h16v-1z"/>
  <path d="M3.5 3.5l17 17" stroke="var(--panel)" stroke-width="4.5"/><path d="M3.5 3.5l17 17" stroke="currentColor" stroke-width="2"/>`}
</svg>`;

export interface PausedSound {
  priority: Priority;
  remainingMs: number;
}

/** Fired (bubbling, composed) when the user asks to enable, mute or unmute the sound. */
export type SoundControlEvent = 'sound-enable' | 'sound-mute' | 'sound-unmute';

export class WpSoundControl extends LitElement {
  static override properties = {
    state: { type: String },
    priority: { type: String },
    paused: { attribute: false },
    unsupported: { type: Boolean },
    kiosk: { type: Boolean },
  };
  declare state: SoundState;
  declare priority: Priority | null;
  declare paused: PausedSound | null;
  declare unsupported: boolean;
  declare kiosk: boolean;

  constructor() {
    super();
    this.state = 'quiet';
    this.priority = null;
    this.paused = null;
    this.unsupported = false;
    this.kiosk = false;
  }

  static override styles = [
    theme,
    css`
      :host { display: inline-block; }
      .control { display: flex; align-items: center; gap: 0.6rem; }
      .icon { width: 1.3em; height: 1.3em; flex: none; }
      .on { display: inline-flex; align-items: center; gap: 0.4rem; padding: 0.25rem 0.7rem; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); white-space: nowrap; }
      .on .what { font-weight: 800; text-transform: uppercase; font-size: 0.85em; }
      .paused { display: inline-flex; align-items: center; gap: 0.35rem; font-weight: 700; font-variant-numeric: tabular-nums; white-space: nowrap; }
      .mute { padding: 0.2rem 0.6rem; font-size: 0.9em; }
      /* Sound is not reaching the room: large, black on white with a red frame (about 19:1),
         readable across a ward on a 1920×1080 display. */
      .off {
        display: inline-flex; align-items: center; gap: 0.6rem; white-space: nowrap;
        font-size: 2rem; font-weight: 800; line-height: 1.15; padding: 0.3rem 1.1rem;
        background: #ffffff; color: #111111; border: 5px solid #e53935; border-radius: 10px;
      }
      .off:hover { border-color: #b71c1c; }
      .off .icon { width: 1.5em; height: 1.5em; color: #c62828; }
      .off small { display: block; font-size: 0.62em; font-weight: 700; color: #b71c1c; }
      button.off[disabled] { cursor: default; }
    `,
  ];

  private fire(type: SoundControlEvent): void {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true }));
  }

  private unheard() {
    return this.priority ? html`<small>a ${this.priority} priority alarm is not heard</small>` : nothing;
  }

  private pausedView() {
    const p = this.paused;
    if (!p) return nothing;
    return html`<span class="paused" title="Alarm sound paused (silenced); it sounds again when the silence ends" data-paused=${p.priority}
      >${BELL_OFF}<span>${p.priority} paused ${formatCountdown(p.remainingMs)}</span></span
    >`;
  }

  override render() {
    const s = this.state;
    let body;
    if (s === 'blocked') {
      body = this.unsupported
        ? html`<button class="off" disabled>${SOUND_OFF}<span>sound off — this browser cannot play alarm sounds${this.unheard()}</span></button>`
        : html`<button class="off" @click=${() => this.fire('sound-enable')}>${SOUND_OFF}<span>sound off — click to enable${this.unheard()}</span></button>`;
    } else if (s === 'muted') {
      body = html`<button class="off" @click=${() => this.fire('sound-unmute')}>${SOUND_OFF}<span>sound muted — click to unmute${this.unheard()}</span></button>`;
    } else {
      body = html`<span class="on">${SOUND_ON}<span>sound on</span>${s === 'playing' && this.priority
          ? html`<span class="what">· ${this.priority} alarm</span>`
          : nothing}</span
        >${this.pausedView()}${this.kiosk
          ? nothing
          : html`<button class="mute" title="Mute alarm sounds on this display until unmuted or reloaded" @click=${() => this.fire('sound-mute')}>Mute</button>`}`;
    }
    return html`<div class="control" role="status" aria-live="polite" data-state=${s} data-priority=${this.priority ?? ''}>${body}</div>`;
  }
}
customElements.define('wp-sound-control', WpSoundControl);
declare global {
  interface HTMLElementTagNameMap {
    'wp-sound-control': WpSoundControl;
  }
}
