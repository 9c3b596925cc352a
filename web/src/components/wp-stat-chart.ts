// One statistics chart of the analytics page: Chart.js bars (stacked or not) or lines on a category
// axis (days or bands), with a heading, the unit on the y axis, and "No data in this range" in place
// of an empty chart. The Chart.js instance lives from the first render to disconnection.
import { LitElement, css, html } from 'lit';
import { BarController, BarElement, CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import { isEmpty, type StatChart } from '../logic/analytics.ts';
import { theme } from '../styles.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

const TICK = '#9fb0c8';
const GRID = 'rgba(159, 176, 200, 0.10)';

export class WpStatChart extends LitElement {
  static override properties = {
    heading: { type: String },
    unit: { type: String },
    kind: { type: String },
    stacked: { type: Boolean },
    chart: { attribute: false },
  };
  declare heading: string;
  /** The y axis title, e.g. "alarms" or "minutes". */
  declare unit: string;
  declare kind: 'bar' | 'line';
  declare stacked: boolean;
  declare chart: StatChart;
  private instance: Chart | null = null;

  constructor() {
    super();
    this.heading = '';
    this.unit = '';
    this.kind = 'bar';
    this.stacked = false;
    this.chart = { labels: [], datasets: [] };
  }

  static override styles = [
    theme,
    css`
      :host { display: flex; flex-direction: column; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; box-sizing: border-box; min-width: 0; }
      h2 { margin: 0 0 0.4rem; font-size: 1.05rem; }
      .box { position: relative; flex: 1; min-height: 220px; }
      .empty { color: var(--muted); margin: auto; padding: 2rem 0; text-align: center; }
    `,
  ];

  override render() {
    const empty = isEmpty(this.chart);
    return html`<h2>${this.heading}</h2>
      ${empty
        ? html`<p class="empty" data-testid="empty">No data in this range.</p>`
        : html`<div class="box"><canvas role="img" aria-label=${`${this.heading}: ${this.chart.datasets.map((d) => d.label).join(', ')}`}></canvas></div>`}`;
  }

  override updated(): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas) return this.destroy();
    if (this.instance && this.instance.canvas !== canvas) this.destroy();
    const config = this.config();
    if (!this.instance) this.instance = new Chart(canvas, config);
    else {
      this.instance.data = config.data;
      this.instance.options = config.options!;
      this.instance.update('none');
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.destroy();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Back in the DOM after a move: render again to re-create the chart.
    if (this.hasUpdated) this.requestUpdate();
  }

  private destroy(): void {
    this.instance?.destroy();
    this.instance = null;
  }

  private config(): ChartConfiguration {
    const line = this.kind === 'line';
    return {
      type: this.kind,
      data: {
        labels: this.chart.labels,
        datasets: this.chart.datasets.map((d) => ({
          label: d.label,
          data: d.data,
          borderColor: d.colour,
          backgroundColor: d.colour,
          ...(d.stack ? { stack: d.stack } : {}),
          ...(line ? { borderDash: d.dashed ? [6, 4] : [], pointRadius: 3, spanGaps: false, tension: 0 } : {}),
        })),
      } as ChartConfiguration['data'],
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        scales: {
          x: { stacked: this.stacked && !line, grid: { color: GRID }, ticks: { color: TICK, font: { size: 12 } } },
          y: {
            stacked: this.stacked && !line,
            beginAtZero: true,
            grid: { color: GRID },
            ticks: { color: TICK, font: { size: 12 } },
            title: { display: !!this.unit, text: this.unit, color: TICK },
          },
        },
        plugins: {
          legend: { labels: { color: '#e6edf7', boxWidth: 14 } },
          tooltip: { backgroundColor: '#1a2540', borderColor: '#2a3858', borderWidth: 1, titleColor: '#e6edf7', bodyColor: '#e6edf7' },
        },
      },
    };
  }
}
customElements.define('wp-stat-chart', WpStatChart);
declare global {
  interface HTMLElementTagNameMap {
    'wp-stat-chart': WpStatChart;
  }
}
