// One live trend chart of the patient panel (Chart.js on a time axis): the vital's series, the
// patient's alarm limits as dashed lines with shaded zones beyond them, and a caption with the
// newest value. The host carries `data-vital` and `data-points` (points in its first series) so
// end-to-end tests can watch it fill.
import { LitElement, css, html, nothing } from 'lit';
import { cssProps } from '../directives/css-props.ts';
import type { ScriptableContext, TooltipItem } from 'chart.js';
import { ChartController, type LineChart, type LineConfig } from '../controllers/chart-controller.ts';
import { isIsolated, type XY } from '../logic/panel-series.ts';
import { alignedTicks } from '../logic/panel-range.ts';
import { LIMIT_LINE, limitDatasets, suggestedY, type LimitSpec } from '../logic/panel-limits.ts';
import { theme } from '../styles.ts';

export interface ChartSeries {
  label: string;
  colour: string;
  points: XY[];
}

const TICK = '#9fb0c8';
const GRID = 'rgba(159, 176, 200, 0.10)';
const AXIS = 'rgba(159, 176, 200, 0.35)';

export class WpVitalChart extends LitElement {
  static override properties = {
    vital: { type: String, attribute: 'data-vital', reflect: true },
    heading: { type: String },
    unit: { type: String },
    digits: { type: Number },
    series: { attribute: false },
    limits: { attribute: false },
    from: { type: Number },
    to: { type: Number },
    rev: { type: Number },
    decimate: { type: Boolean },
    gapMs: { type: Number },
    stepped: { type: Boolean },
    current: { attribute: false },
    note: { type: String },
    limitLabel: { type: String },
    tickMs: { type: Number },
    tickUnit: { type: String },
  };
  /** 'hr', 'spo2', 'rr', 'bp', 'temp' or 'news2'; reflected as `data-vital`. */
  declare vital: string;
  declare heading: string;
  declare unit: string;
  declare digits: number;
  /** The first series is the one counted in `data-points`. */
  declare series: ChartSeries[];
  declare limits: LimitSpec[];
  /** The window shown, epoch ms. */
  declare from: number;
  declare to: number;
  /** Bumped by the owner whenever the points arrays changed in place. */
  declare rev: number;
  declare decimate: boolean;
  /** Points further apart are not joined. */
  declare gapMs: number;
  /** Step chart (a score holds until the next one). */
  declare stepped: boolean;
  /** Step charts: the value in force now, drawn from the last point to the right edge. */
  declare current: number | null;
  /** Small text after the heading (e.g. "1-min means"). */
  declare note: string;
  /** Legend text of the dashed lines. */
  declare limitLabel: string;
  /** Time-axis tick spacing (round local times) and the unit their labels are formatted in. */
  declare tickMs: number;
  declare tickUnit: 'minute' | 'hour' | 'day';

  private readonly chart = new ChartController(this, {
    canvas: () => this.renderRoot.querySelector('canvas'),
    create: () => this.config(),
    sync: (c) => this.sync(c),
    drawn: () => this.setAttribute('data-points', String(this.series[0]?.points.length ?? 0)),
  });

  constructor() {
    super();
    this.vital = '';
    this.heading = '';
    this.unit = '';
    this.digits = 0;
    this.series = [];
    this.limits = [];
    this.from = Date.now() - 5 * 60_000;
    this.to = Date.now();
    this.rev = 0;
    this.decimate = false;
    this.gapMs = 30_000;
    this.stepped = false;
    this.current = null;
    this.note = '';
    this.limitLabel = 'alarm limits';
    this.tickMs = 60_000;
    this.tickUnit = 'minute';
  }

  static override styles = [
    theme,
    css`
      :host { display: flex; flex-direction: column; min-width: 0; min-height: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px 4px; box-sizing: border-box; }
      header { display: flex; align-items: baseline; gap: 0.6rem; flex-wrap: wrap; min-width: 0; }
      h3 { margin: 0; font-size: 1rem; font-weight: 700; }
      .note { color: var(--muted); font-size: 0.85rem; }
      .spacer { flex: 1; }
      .legend { display: flex; gap: 0.8rem; color: var(--muted); font-size: 0.85rem; }
      .swatch { display: inline-block; width: 0.9rem; height: 3px; vertical-align: middle; margin-right: 0.3rem; border-radius: 2px; }
      .limit-swatch { display: inline-block; width: 0.9rem; border-top: 2px dashed rgba(239, 83, 80, 0.85); vertical-align: middle; margin-right: 0.3rem; }
      .value { font-size: 1.5rem; font-weight: 800; font-variant-numeric: tabular-nums; }
      .value small { font-size: 0.85rem; font-weight: 400; color: var(--muted); margin-left: 0.2rem; }
      .box { position: relative; flex: 1; min-height: 120px; }
      canvas { display: block; }
    `,
  ];

  private latestText(): string {
    const vals = this.series.map((s) => s.points[s.points.length - 1]?.y);
    if (this.stepped && vals[0] === undefined && this.current !== null) return String(this.current);
    if (vals.every((v) => v === undefined)) return '--';
    return vals.map((v) => (v === undefined ? '--' : v.toFixed(this.digits))).join('/');
  }

  override render() {
    const value = this.latestText();
    const limits = this.limits
      .flatMap((l) => [l.bound?.low, l.bound?.high])
      .filter((v): v is number => v !== undefined);
    const label = `${this.heading} trend, ${this.series[0]?.points.length ?? 0} points, latest ${value}${this.unit ? ` ${this.unit}` : ''}${
      limits.length ? `, ${this.limitLabel} ${limits.join(', ')}` : ''
    }`;
    return html`<header>
        <h3>${this.heading}</h3>
        ${this.note ? html`<span class="note">${this.note}</span>` : nothing}
        <span class="spacer"></span>
        ${this.series.length > 1 || limits.length
          ? html`<span class="legend" aria-hidden="true">
              ${this.series.length > 1 ? this.series.map((s) => html`<span><span class="swatch" style=${cssProps({ background: s.colour })}></span>${s.label}</span>`) : nothing}
              ${limits.length
                ? html`<span
                    >${[...new Set(this.limits.map((l) => l.colour ?? LIMIT_LINE))].map((c) => html`<span class="limit-swatch" style=${cssProps({ 'border-color': c })}></span>`)}${this.limitLabel}</span
                  >`
                : nothing}
            </span>`
          : nothing}
        <span class="value" style=${cssProps({ color: this.series[0]?.colour ?? 'inherit' })}>${value}${this.unit ? html`<small>${this.unit}</small>` : nothing}</span>
      </header>
      <div class="box"><canvas role="img" aria-label=${label}></canvas></div>`;
  }

  private config(): LineConfig {
    return {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: { point: { radius: 0, hoverRadius: 4, hitRadius: 4 }, line: { borderWidth: 1.75, tension: 0 } },
        scales: {
          x: {
            type: 'time',
            min: this.from,
            max: this.to,
            time: {
              unit: this.tickUnit,
              displayFormats: { second: 'HH:mm:ss', minute: 'HH:mm', hour: 'HH:mm', day: 'EEE d MMM' },
              tooltipFormat: 'd MMM HH:mm:ss',
            },
            grid: { color: GRID },
            border: { color: AXIS },
            ticks: { color: TICK, maxRotation: 0, autoSkipPadding: 24, font: { size: 12 } },
            afterBuildTicks: (scale) => {
              scale.ticks = alignedTicks(scale.min, scale.max, this.tickMs).map((value) => ({ value }));
            },
          },
          y: {
            type: 'linear',
            grid: { color: GRID },
            border: { color: AXIS },
            ticks: { color: TICK, font: { size: 12 }, maxTicksLimit: 6 },
          },
        },
        plugins: {
          decimation: { enabled: this.decimate, algorithm: 'lttb', threshold: 800 },
          tooltip: {
            backgroundColor: '#1a2540',
            borderColor: '#2a3858',
            borderWidth: 1,
            titleColor: '#e6edf7',
            bodyColor: '#e6edf7',
            filter: (item: TooltipItem<'line'>) => !('limit' in item.dataset) && !('hold' in item.dataset),
            callbacks: {
              label: (item: TooltipItem<'line'>) => {
                const p = item.raw as XY;
                const mean = p.n && p.n > 1 ? ` (mean of ${p.n})` : '';
                const manual = p.m ? ' (manual)' : '';
                return `${item.dataset.label}: ${p.y.toFixed(this.digits)} ${this.unit}${mean}${manual}`;
              },
            },
          },
        },
      },
    };
  }

  private sync(chart: LineChart): void {
    const opts = chart.options;
    const x = opts.scales!['x']!;
    x.min = this.from;
    x.max = this.to;
    if (x.type === 'time' && x.time) x.time.unit = this.tickUnit;
    const y = opts.scales!['y']!;
    Object.assign(y, suggestedY(this.vital, this.limits.map((l) => l.bound)));
    opts.spanGaps = this.gapMs;
    opts.plugins!.decimation!.enabled = this.decimate;

    const gap = this.gapMs;
    const radius = (ctx: ScriptableContext<'line'>) => {
      const data = ctx.dataset.data as XY[];
      const p = data[ctx.dataIndex];
      return p && (p.m || isIsolated(data, ctx.dataIndex, gap)) ? 3 : 0;
    };
    const wanted: Record<string, unknown>[] = this.series.map((s) => ({
      label: s.label,
      data: s.points,
      borderColor: s.colour,
      backgroundColor: s.colour,
      pointRadius: radius,
      stepped: this.stepped ? 'before' : false,
      fill: false,
    }));
    const first = this.series[0];
    if (this.stepped && first) {
      // The score in force holds until now: drawn dotted from the last change to the right edge.
      const last = first.points[first.points.length - 1];
      // The newest change is the score in force; with none in the window, the live one.
      const y0 = last?.y ?? this.current ?? undefined;
      if (y0 !== undefined) {
        const x0 = Math.max(last?.x ?? this.from, this.from);
        wanted.push({
          label: `${first.label} now`,
          hold: true,
          data: x0 < this.to ? [{ x: x0, y: y0 }, { x: this.to, y: y0 }] : [],
          borderColor: first.colour,
          borderDash: [2, 3],
          pointRadius: 0,
          spanGaps: true,
          stepped: false,
          fill: false,
        });
      }
    }
    wanted.push(...(limitDatasets(this.limits, this.from, this.to) as unknown as Record<string, unknown>[]));

    const datasets = chart.data.datasets as unknown as Record<string, unknown>[];
    wanted.forEach((w, i) => {
      const cur = datasets[i];
      // Same dataset (same label): update in place so Chart.js keeps its decimation state.
      if (cur && cur['label'] === w['label']) Object.assign(cur, w);
      else datasets[i] = w;
    });
    datasets.length = wanted.length;
  }

  /** For tests and debugging: the Chart.js instance. */
  get chartInstance(): LineChart | null {
    return this.chart.instance;
  }
}
customElements.define('wp-vital-chart', WpVitalChart);
declare global {
  interface HTMLElementTagNameMap {
    'wp-vital-chart': WpVitalChart;
  }
}
