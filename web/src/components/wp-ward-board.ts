// The ward wall display: every bed of one ward in a grid that fills the screen without
// scrolling (4 to 64 beds on 1920×1080). Re-renders only changed tiles, at most once per frame.
// Sounds the ward's alarms (IEC 60601-1-8 bursts, AlarmSoundController); the sound control sits in
// a slim header above the grid, never over a bed.
import { LitElement, css, html, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { cssProps } from '../directives/css-props.ts';
import { store, backfill } from '../context.ts';
import { SubscriptionRefused } from '../realtime.ts';
import type { PatientView } from '../store.ts';
import { gridFor, type GridLayout } from '../logic/layout.ts';
import { theme } from '../styles.ts';
import { AlarmSoundController } from '../controllers/alarm-sound-controller.ts';
import { ClockController } from '../controllers/clock-controller.ts';
import { LiveSubscriptionController } from '../controllers/live-subscription-controller.ts';
import './wp-bed-tile.ts';
import './wp-sound-control.ts';

export class WpWardBoard extends LitElement {
  static override properties = {
    ward: { type: String },
    kiosk: { type: Boolean },
    beds: { state: true },
    layout: { state: true },
    error: { state: true },
  };
  declare ward: string;
  declare kiosk: boolean;
  declare beds: PatientView[];
  declare layout: GridLayout;
  declare error: string;

  private ids = new Set<string>();
  /** Ages and staleness on every tile move on with it. */
  private readonly clock = new ClockController(this);
  private readonly live = new LiveSubscriptionController(this, {
    key: () => this.ward,
    subscribe: ({ client, key: ward, opened, since }) => {
      const off = store.subscribe((changed) => {
        for (const id of changed) {
          if (this.ids.has(id) || store.patients.get(id)?.ward === ward) return this.refresh();
        }
      });
      // Resolves with the snapshot now, or null when the socket is still connecting: the
      // snapshot then arrives through the store once it is up (and this runs again).
      client.subscribe({ ward }).then(
        () => {
          if (ward !== this.ward) return;
          this.error = '';
          this.refresh();
          // Back from a lost connection: the beds' trends need what happened meanwhile.
          if (since !== null) void backfill([...this.ids], since);
        },
        (err: unknown) => {
          if (ward !== this.ward) return;
          if (err instanceof SubscriptionRefused) {
            // Refused — e.g. a kiosk no longer bound to this ward: say why, show no beds.
            this.error = err.message;
            this.forgetBeds();
          } else if (opened) this.error = (err as Error).message;
        },
      );
      return () => {
        off();
        client.unsubscribe({ ward });
      };
    },
  });
  private resize = new ResizeObserver(() => this.relayout());
  /** Every alarm of every bed on this ward. */
  private readonly sound = new AlarmSoundController(this, { alerts: () => this.beds.flatMap((p) => p.alerts) });

  constructor() {
    super();
    this.beds = [];
    this.kiosk = false;
    this.error = '';
    this.layout = { columns: 1, rows: 1, tileWidth: 0, tileHeight: 0 };
  }

  static override styles = [
    theme,
    css`
      :host { display: flex; flex-direction: column; gap: 6px; height: 100%; box-sizing: border-box; padding: 8px; }
      .bar { flex: none; display: flex; align-items: center; gap: 1rem; min-height: 2.2rem; }
      .bar h1 { margin: 0; font-size: 1.3rem; font-weight: 700; color: var(--muted); }
      .bar .spacer { flex: 1; }
      .grid { display: grid; gap: 8px; flex: 1; min-height: 0; }
      .empty { color: var(--muted); font-size: 1.4rem; padding: 2rem; }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
    if (this.hasUpdated) this.observeBar();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another ward on the same element: none of the last one's beds belong here.
    if (changed.has('ward') && changed.get('ward') !== undefined) {
      this.error = '';
      this.ids.clear();
      this.beds = [];
    }
  }

  private forgetBeds(): void {
    store.forget([...this.ids]);
    this.ids.clear();
    this.beds = [];
  }

  private refresh(): void {
    // After a reconnect the snapshot may bring the ward's patients again: take them from the store.
    const fresh: string[] = [];
    for (const p of store.patients.values()) {
      if (p.ward === this.ward && !this.ids.has(p.id)) {
        this.ids.add(p.id);
        fresh.push(p.id);
      }
    }
    // Newly seen beds get their recent trend from the history API; they came with a snapshot,
    // so a refusal shown before (access since given back) no longer holds.
    if (fresh.length > 0) {
      this.error = '';
      void backfill(fresh, Date.now() - 10 * 60_000);
    }
    this.beds = [...this.ids]
      .map((id) => store.patients.get(id))
      .filter((p): p is PatientView => !!p)
      .sort((a, b) => (a.bed ?? '').localeCompare(b.bed ?? '', undefined, { numeric: true }));
    this.relayout();
  }

  protected override firstUpdated(): void {
    this.observeBar();
  }

  /** The header grows when the sound control turns into its large "sound off" button. */
  private observeBar(): void {
    const bar = this.renderRoot.querySelector('.bar');
    if (bar) this.resize.observe(bar);
  }

  private relayout(): void {
    const bar = this.renderRoot.querySelector<HTMLElement>('.bar');
    const w = this.clientWidth - 16;
    const h = this.clientHeight - 16 - (bar ? bar.offsetHeight + 6 : 0);
    if (w > 0 && h > 0) this.layout = gridFor(this.beds.length, w, h);
  }

  private header() {
    const s = this.sound;
    return html`<header class="bar">
      <h1>Ward ${this.ward}</h1>
      <span class="spacer"></span>
      <wp-sound-control
        .state=${s.state}
        .priority=${s.priority}
        .paused=${s.paused ? { priority: s.paused.alarm.priority, remainingMs: s.paused.remainingMs } : null}
        ?unsupported=${s.unsupported}
        ?kiosk=${this.kiosk}
        @sound-enable=${() => s.enable()}
        @sound-mute=${() => s.mute()}
        @sound-unmute=${() => s.unmute()}
      ></wp-sound-control>
    </header>`;
  }

  override render() {
    if (this.error) return html`${this.header()}<p class="empty" role="alert">${this.error}</p>`;
    if (this.beds.length === 0) return html`${this.header()}<p class="empty">No patients in ward ${this.ward} yet.</p>`;
    const { columns, rows } = this.layout;
    return html`${this.header()}<div class="grid" role="list" aria-label="Ward ${this.ward}" style=${cssProps({ 'grid-template-columns': `repeat(${columns},minmax(0,1fr))`, 'grid-template-rows': `repeat(${rows},minmax(0,1fr))` })}>
      ${repeat(
        this.beds,
        (p) => p.id,
        (p) => html`<wp-bed-tile role="listitem" .patient=${p} .now=${this.clock.now} ?kiosk=${this.kiosk}></wp-bed-tile>`,
      )}
    </div>`;
  }
}
customElements.define('wp-ward-board', WpWardBoard);
declare global {
  interface HTMLElementTagNameMap {
    'wp-ward-board': WpWardBoard;
  }
}
