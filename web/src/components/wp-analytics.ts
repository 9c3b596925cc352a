// The analytics page (issue 15; admins and doctors): alarms, time to acknowledge, NEWS2 band time,
// device completeness and the clinic's appointments and revenue, filtered by ward and UTC day range.
// Reads GET /api/wards and GET /api/analytics/* (docs/api.md "Analytics"); the shaping is in
// logic/analytics.ts.
import { LitElement, css, html, nothing } from 'lit';
import { api } from '../api.ts';
import { cssProps } from '../directives/css-props.ts';
import { theme } from '../styles.ts';
import {
  ackTimes,
  alarmsByPriority,
  analyticsQuery,
  appointmentsByStatus,
  daysOf,
  defaultFilters,
  deviceRows,
  news2Hours,
  rangeOf,
  revenueByDay,
  revenueTotals,
  type AlarmsAnswer,
  type AnalyticsFilters,
  type ClinicAnswer,
  type DeviceRow,
  type DevicesAnswer,
  type News2Answer,
  type StatChart,
} from '../logic/analytics.ts';
import './wp-stat-chart.ts';

/** What the page draws, once loaded (or set directly by a test). */
export interface AnalyticsView {
  alarms: StatChart;
  ack: StatChart;
  news2: StatChart;
  devices: DeviceRow[];
  appointments: StatChart;
  revenue: StatChart;
  revenueTotals: string[];
}

export class WpAnalytics extends LitElement {
  static override properties = {
    filters: { state: true },
    wards: { state: true },
    view: { attribute: false },
    error: { state: true },
    loading: { state: true },
  };
  declare filters: AnalyticsFilters;
  declare wards: string[];
  declare view: AnalyticsView | null;
  declare error: string;
  declare loading: boolean;
  private seq = 0;

  constructor() {
    super();
    this.filters = defaultFilters(Date.now());
    this.wards = [];
    this.view = null;
    this.error = '';
    this.loading = false;
  }

  static override styles = [
    theme,
    css`
      :host { display: block; padding: 1rem 1.5rem; }
      h1 { margin: 0 0 0.6rem; }
      form { display: flex; gap: 1rem; align-items: end; flex-wrap: wrap; margin-bottom: 0.6rem; }
      label { display: flex; flex-direction: column; gap: 0.2rem; color: var(--muted); font-size: 0.9rem; }
      .note { color: var(--muted); font-size: 0.9rem; margin: 0 0 1rem; }
      .error { background: #3a1414; border: 1px solid var(--danger); color: #ffcdd2; padding: 0.6rem 0.8rem; border-radius: 6px; margin: 0 0 1rem; }
      .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(30rem, 1fr)); gap: 1rem; }
      wp-stat-chart { height: 18rem; }
      section.table { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; overflow: auto; max-height: 18rem; }
      section.table h2 { margin: 0 0 0.4rem; font-size: 1.05rem; }
      /* Five columns do not fit a chart-wide card: two cards wide where there is room. */
      @media (min-width: 64rem) { section.table { grid-column: span 2; } }
      table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
      th, td { white-space: nowrap; text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); }
      th { color: var(--muted); font-weight: 600; }
      .bar { display: inline-block; height: 0.6rem; width: 5rem; background: var(--panel-2); border-radius: 3px; margin-right: 0.4rem; vertical-align: middle; overflow: hidden; }
      .bar span { display: block; height: 100%; background: var(--ok); }
      .bar span.low { background: var(--danger); }
      .empty { color: var(--muted); }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadWards();
    if (!this.view) void this.load();
  }

  private async loadWards(): Promise<void> {
    try {
      this.wards = (await api<{ items: { ward: string }[] }>('GET', '/api/wards')).items.map((w) => w.ward);
    } catch {
      this.wards = [];
    }
  }

  /** Fetches the four answers for the current filters; a newer call supersedes an older one. */
  async load(): Promise<void> {
    const range = rangeOf(this.filters);
    if (!range.ok) {
      this.error = range.error;
      return;
    }
    const seq = ++this.seq;
    this.loading = true;
    const q = analyticsQuery(this.filters, range);
    try {
      const [alarms, news2, devices, clinic] = await Promise.all([
        api<AlarmsAnswer>('GET', `/api/analytics/alarms?${q}`),
        api<News2Answer>('GET', `/api/analytics/news2?${q}`),
        api<DevicesAnswer>('GET', `/api/analytics/devices?${q}`),
        api<ClinicAnswer>('GET', `/api/analytics/clinic?${analyticsQuery(this.filters, range, false)}`),
      ]);
      if (seq !== this.seq) return;
      const days = daysOf(range);
      this.view = {
        alarms: alarmsByPriority(days, alarms),
        ack: ackTimes(days, alarms),
        news2: news2Hours(news2),
        devices: deviceRows(devices),
        appointments: appointmentsByStatus(days, clinic),
        revenue: revenueByDay(days, clinic),
        revenueTotals: revenueTotals(clinic),
      };
      this.error = '';
    } catch (err) {
      if (seq === this.seq) this.error = `Could not load the statistics: ${(err as Error).message}`;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }

  private change(patch: Partial<AnalyticsFilters>): void {
    this.filters = { ...this.filters, ...patch };
    void this.load();
  }

  private form() {
    const f = this.filters;
    return html`<form @submit=${(e: Event) => e.preventDefault()}>
      <label
        >Ward
        <select @change=${(e: Event) => this.change({ ward: (e.target as HTMLSelectElement).value })}>
          <option value="" ?selected=${f.ward === ''}>All wards</option>
          ${this.wards.map((w) => html`<option value=${w} ?selected=${w === f.ward}>Ward ${w}</option>`)}
        </select></label
      >
      <label>From <input type="date" name="from" .value=${f.from} @change=${(e: Event) => this.change({ from: (e.target as HTMLInputElement).value })} /></label>
      <label>To <input type="date" name="to" .value=${f.to} @change=${(e: Event) => this.change({ to: (e.target as HTMLInputElement).value })} /></label>
      ${this.loading ? html`<span class="note" aria-live="polite">Loading…</span>` : nothing}
    </form>`;
  }

  private deviceTable(rows: DeviceRow[]) {
    return html`<section class="table">
      <h2>Device completeness</h2>
      ${rows.length === 0
        ? html`<p class="empty">No data in this range.</p>`
        : html`<table>
            <thead>
              <tr><th>Device</th><th>Ward</th><th>Completeness</th><th>Readings</th><th>Offline</th></tr>
            </thead>
            <tbody>
              ${rows.map(
                (r) => html`<tr>
                  <td>${r.device}</td>
                  <td>${r.ward}</td>
                  <td>
                    ${r.share === null ? nothing : html`<span class="bar" aria-hidden="true"><span class=${r.share < 0.9 ? 'low' : ''} style=${cssProps({ width: `${Math.round(r.share * 100)}%` })}></span></span>`}${r.completeness}
                  </td>
                  <td>${r.readings}</td>
                  <td>${r.offline}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    </section>`;
  }

  override render() {
    const v = this.view;
    return html`<h1>Analytics</h1>
      ${this.form()}
      <p class="note">UTC days, both dates included (at most 92 days). Alarms and patients count on the ward the patient is on now.</p>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      ${v
        ? html`<div class="grid">
            <wp-stat-chart heading="Alarms per day by priority" unit="alarms" kind="bar" stacked .chart=${v.alarms}></wp-stat-chart>
            <wp-stat-chart heading="Time to acknowledge (median and 90th percentile)" unit="minutes" kind="line" .chart=${v.ack}></wp-stat-chart>
            <wp-stat-chart heading="Time in NEWS2 band" unit="patient-hours" kind="bar" stacked .chart=${v.news2}></wp-stat-chart>
            ${this.deviceTable(v.devices)}
            <wp-stat-chart heading="Clinic appointments per day" unit="appointments" kind="bar" stacked .chart=${v.appointments}></wp-stat-chart>
            <wp-stat-chart
              heading=${`Revenue per day${v.revenueTotals.length ? ` — total ${v.revenueTotals.join(', ')}` : ''}`}
              unit="amount (major units)"
              kind="bar"
              stacked
              .chart=${v.revenue}
            ></wp-stat-chart>
          </div>`
        : this.error
          ? nothing
          : html`<p>Loading…</p>`}`;
  }
}
customElements.define('wp-analytics', WpAnalytics);
declare global {
  interface HTMLElementTagNameMap {
    'wp-analytics': WpAnalytics;
  }
}
