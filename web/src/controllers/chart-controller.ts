// One Chart.js instance owned by a Lit element: created once the element has rendered its
// canvas, brought up to date after each of the host's updates (`update('none')`: no animation),
// destroyed when the host leaves the DOM and created again if it comes back.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  Chart,
  Decimation,
  Filler,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  TimeScale,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
// The date adapter the time scale needs; importing it registers it with Chart.js (once, here).
import 'chartjs-adapter-date-fns';

// Only the parts the panel draws: line charts on a time axis, limit zones (Filler), LTTB
// decimation and tooltips. The legend is HTML in the chart's caption.
Chart.register(LineController, LineElement, PointElement, LinearScale, TimeScale, Filler, Tooltip, Decimation);

export type LineConfig = ChartConfiguration<'line', { x: number; y: number }[]>;
export type LineChart = Chart<'line', { x: number; y: number }[]>;

export interface ChartControllerOptions {
  /** The canvas in the host's render root, or null before the first render. */
  canvas: () => HTMLCanvasElement | null;
  /** The configuration a new chart starts from. */
  create: () => LineConfig;
  /** Bring an existing chart's data and options up to date (the controller then redraws it). */
  sync: (chart: LineChart) => void;
  /** Called after every redraw (e.g. to expose point counts to tests). */
  drawn?: (chart: LineChart) => void;
}

export class ChartController implements ReactiveController {
  private chart: LineChart | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: ChartControllerOptions,
  ) {
    host.addController(this);
  }

  get instance(): LineChart | null {
    return this.chart;
  }

  hostConnected(): void {
    // Back in the DOM after a move: an update re-creates the chart.
    if (!this.chart) this.host.requestUpdate();
  }

  hostUpdated(): void {
    const canvas = this.options.canvas();
    if (!canvas) return;
    if (this.chart && this.chart.canvas !== canvas) this.destroy();
    if (!this.chart) {
      this.chart = new Chart(canvas, this.options.create());
      this.options.sync(this.chart);
    } else this.options.sync(this.chart);
    this.chart.update('none');
    this.options.drawn?.(this.chart);
  }

  hostDisconnected(): void {
    this.destroy();
  }

  private destroy(): void {
    this.chart?.destroy();
    this.chart = null;
  }
}
