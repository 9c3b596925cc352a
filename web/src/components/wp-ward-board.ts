// The ward wall display: every bed of one ward in a grid that fills the screen without
// scrolling (4 to 64 beds on 1920×1080). Re-renders only changed tiles, at most once per frame.
import { LitElement, css, html } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { store, liveClient, onReconnected, backfill } from '../context.ts';
import type { PatientView } from '../store.ts';
import { gridFor, type GridLayout } from '../logic/layout.ts';
import { theme } from '../styles.ts';
import './wp-bed-tile.ts';

export class WpWardBoard extends LitElement {
  static override properties = {
    ward: { type: String },
    kiosk: { type: Boolean },
    beds: { state: true },
    now: { state: true },
    layout: { state: true },
    error: { state: true },
  };
  declare ward: string;
  declare kiosk: boolean;
  declare beds: PatientView[];
  declare now: number;
  declare layout: GridLayout;
  declare error: string;

  private ids = new Set<string>();
  private cleanups: (() => void)[] = [];
  private clock: number | undefined;
  private resize = new ResizeObserver(() => this.relayout());

  constructor() {
    super();
    this.beds = [];
    this.now = Date.now();
    this.kiosk = false;
    this.error = '';
    this.layout = { columns: 1, rows: 1, tileWidth: 0, tileHeight: 0 };
  }

  static override styles = [
    theme,
    css`
      :host { display: block; height: 100%; box-sizing: border-box; padding: 8px; }
      .grid { display: grid; gap: 8px; height: 100%; }
      .empty { color: var(--muted); font-size: 1.4rem; padding: 2rem; }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.resize.observe(this);
    this.cleanups.push(
      store.subscribe((changed) => {
        for (const id of changed) {
          if (this.ids.has(id) || store.patients.get(id)?.ward === this.ward) return this.refresh();
        }
      }),
      onReconnected((since) => void backfill([...this.ids], since)),
    );
    this.clock = window.setInterval(() => (this.now = Date.now()), 1000);
    void this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resize.disconnect();
    for (const c of this.cleanups) c();
    this.cleanups = [];
    clearInterval(this.clock);
    liveClient().unsubscribe({ ward: this.ward });
  }

  private async start(): Promise<void> {
    try {
      // Resolves with the snapshot now, or null when the socket is still connecting: the
      // snapshot then arrives through the store once it is up.
      await liveClient().subscribe({ ward: this.ward });
      this.refresh();
    } catch (err) {
      this.error = (err as Error).message;
    }
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
    // Newly seen beds get their recent trend from the history API.
    if (fresh.length > 0) void backfill(fresh, Date.now() - 10 * 60_000);
    this.beds = [...this.ids]
      .map((id) => store.patients.get(id))
      .filter((p): p is PatientView => !!p)
      .sort((a, b) => (a.bed ?? '').localeCompare(b.bed ?? '', undefined, { numeric: true }));
    this.relayout();
  }

  private relayout(): void {
    const w = this.clientWidth - 16;
    const h = this.clientHeight - 16;
    if (w > 0 && h > 0) this.layout = gridFor(this.beds.length, w, h);
  }

  override render() {
    if (this.error) return html`<p class="empty" role="alert">${this.error}</p>`;
    if (this.beds.length === 0) return html`<p class="empty">No patients in ward ${this.ward} yet.</p>`;
    const { columns, rows } = this.layout;
    return html`<div class="grid" role="list" aria-label="Ward ${this.ward}" style="grid-template-columns:repeat(${columns},minmax(0,1fr));grid-template-rows:repeat(${rows},minmax(0,1fr))">
      ${repeat(
        this.beds,
        (p) => p.id,
        (p) => html`<wp-bed-tile role="listitem" .patient=${p} .now=${this.now} ?kiosk=${this.kiosk}></wp-bed-tile>`,
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
