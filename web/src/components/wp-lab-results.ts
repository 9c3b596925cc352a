// <wp-lab-results>: the patient panel's recent lab results, newest first, each with its flag
// (critical LL/HH in the high-priority red, L/H amber, N plain), and the orders still pending.
// Render-only: the panel's PatientDataController loads the orders and sets `orders`.
import { LitElement, css, html, nothing, unsafeCSS } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { LabOrder } from '../../../server/domain/index.ts';
import { FLAG_TEXT, flagLevel, pendingText, recentResults } from '../logic/lab-results.ts';
import { formatClock } from '../logic/panel-format.ts';
import { PRIORITY_STYLE } from '../logic/alarms.ts';
import { theme } from '../styles.ts';

export class WpLabResults extends LitElement {
  static override properties = { orders: { attribute: false }, now: { type: Number }, error: { type: String } };
  declare orders: LabOrder[];
  declare now: number;
  declare error: string;

  constructor() {
    super();
    this.orders = [];
    this.now = Date.now();
    this.error = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; }
      table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
      th, td { text-align: left; padding: 3px 5px; border-bottom: 1px solid var(--line); }
      td.value { white-space: nowrap; }
      thead th { color: var(--muted); font-weight: 600; font-size: 0.85rem; }
      td.flag { font-weight: 800; text-align: center; width: 2.6rem; border-radius: 4px; }
      tr[data-level='critical'] td.flag { background: ${unsafeCSS(PRIORITY_STYLE.high.colour)}; color: ${unsafeCSS(PRIORITY_STYLE.high.text)}; }
      tr[data-level='abnormal'] td.flag { color: #ffb74d; }
      tr[data-level='normal'] td.flag, tr[data-level='none'] td.flag { color: var(--muted); font-weight: 400; }
      .when, .ref { color: var(--muted); font-size: 0.82rem; white-space: nowrap; }
      .pending, .none { color: var(--muted); margin: 4px 0 0; font-size: 0.9rem; }
      .err { color: #ff8a80; margin: 0; font-size: 0.9rem; }
    `,
  ];

  override render() {
    const rows = recentResults(this.orders);
    const pending = pendingText(this.orders);
    if (this.error) return html`<p class="err" role="status">${this.error}</p>`;
    return html`${rows.length === 0
        ? html`<p class="none">No results.</p>`
        : html`<table aria-label="Recent lab results">
            <thead>
              <tr><th scope="col">Test</th><th scope="col">Result</th><th scope="col">Flag</th><th scope="col">Ref.</th><th scope="col">Time</th></tr>
            </thead>
            <tbody>
              ${repeat(
                rows,
                (r) => r.key,
                (r) => html`<tr data-level=${flagLevel(r.flag)} data-code=${r.code} title=${r.comment ?? ''}>
                  <th scope="row">${r.name}</th>
                  <td class="value">${r.value}</td>
                  <td class="flag" title=${r.flag ? FLAG_TEXT[r.flag] : 'no reference range'}>${r.flag ?? '—'}</td>
                  <td class="ref">${r.reference}</td>
                  <td class="when" data-released=${r.released ? 'yes' : 'no'}>
                    ${formatClock(r.at, this.now)}${r.released ? nothing : html`<span title="not released to the patient yet"> †</span>`}
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      ${rows.some((r) => !r.released) ? html`<p class="pending">† not released to the patient yet</p>` : nothing}
      ${pending ? html`<p class="pending">${pending}</p>` : nothing}`;
  }
}
customElements.define('wp-lab-results', WpLabResults);
declare global {
  interface HTMLElementTagNameMap {
    'wp-lab-results': WpLabResults;
  }
}
