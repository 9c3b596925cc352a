// Every active alarm of a ward: highest priority first, newest first within a priority.
import { LitElement, css, html } from 'lit';
import { store, liveClient } from '../context.ts';
import { sortAlarms, PRIORITY_STYLE } from '../logic/alarms.ts';
import { formatAge } from '../logic/freshness.ts';
import type { AlertEvent } from '../../../server/realtime/events.ts';
import { theme } from '../styles.ts';

export class WpAlarmList extends LitElement {
  static override properties = { ward: { type: String }, alarms: { state: true }, now: { state: true } };
  declare ward: string;
  declare alarms: (AlertEvent & { bed: string | null; name: string })[];
  declare now: number;
  private off: (() => void) | null = null;
  private clock: number | undefined;

  constructor() {
    super();
    this.alarms = [];
    this.now = Date.now();
  }

  static override styles = [
    theme,
    css`
      :host { display: block; padding: 1rem 1.5rem; }
      table { border-collapse: collapse; width: 100%; font-size: 1.15rem; }
      th, td { text-align: left; padding: 0.6rem 0.8rem; border-bottom: 1px solid var(--line); }
      th { color: var(--muted); font-weight: 600; }
      .prio { font-weight: 800; padding: 0.15rem 0.6rem; border-radius: 4px; display: inline-block; min-width: 5.5rem; text-align: center; }
      .empty { color: var(--muted); }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = store.subscribe(() => this.collect());
    this.clock = window.setInterval(() => (this.now = Date.now()), 1000);
    void liveClient()
      .subscribe({ ward: this.ward })
      .then(() => this.collect());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    clearInterval(this.clock);
  }

  private collect(): void {
    const all: WpAlarmList['alarms'] = [];
    for (const p of store.patients.values()) {
      if (p.ward !== this.ward) continue;
      for (const a of p.alerts) all.push({ ...a, bed: p.bed, name: p.name });
    }
    this.alarms = sortAlarms(all);
  }

  override render() {
    return html`<h1>Active alarms — ward ${this.ward}</h1>
      ${this.alarms.length === 0
        ? html`<p class="empty">No active alarms.</p>`
        : html`<table>
            <thead><tr><th scope="col">Priority</th><th scope="col">Bed</th><th scope="col">Patient</th><th scope="col">Alarm</th><th scope="col">Since</th></tr></thead>
            <tbody>
              ${this.alarms.map(
                (a) => html`<tr data-priority=${a.priority}>
                  <td><span class="prio" style="background:${PRIORITY_STYLE[a.priority].colour};color:${PRIORITY_STYLE[a.priority].text}">${a.priority}</span></td>
                  <td>${a.bed ?? '–'}</td>
                  <td><a href="/patient/${a.patientId}">${a.name}</a></td>
                  <td>${a.message}</td>
                  <td>${formatAge(this.now - a.ts)} ago</td>
                </tr>`,
              )}
            </tbody>
          </table>`}`;
  }
}
customElements.define('wp-alarm-list', WpAlarmList);
declare global {
  interface HTMLElementTagNameMap {
    'wp-alarm-list': WpAlarmList;
  }
}
