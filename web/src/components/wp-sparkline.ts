// A small trend line on a canvas: cheap enough to redraw 64 of them every second.
import { LitElement, css, html, type PropertyValues } from 'lit';
import type { Point } from '../store.ts';

export class WpSparkline extends LitElement {
  static override properties = { points: { attribute: false }, rev: { type: Number }, colour: { type: String }, window: { type: Number } };
  declare points: Point[] | undefined;
  declare rev: number;
  declare colour: string;
  /** Time span shown, ms. */
  declare window: number;

  constructor() {
    super();
    this.colour = '#7cc4ff';
    this.window = 10 * 60_000;
    this.rev = 0;
  }

  static override styles = css`
    :host { display: block; }
    canvas { width: 100%; height: 100%; display: block; }
  `;

  override render() {
    return html`<canvas aria-hidden="true"></canvas>`;
  }

  protected override updated(_: PropertyValues): void {
    const canvas = this.renderRoot.querySelector('canvas');
    if (!canvas) return;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const pts = this.points ?? [];
    if (pts.length < 2) return;
    const end = pts[pts.length - 1]!.ts;
    // A fixed window once it is full; until then, the data there is stretched across the width.
    const start = Math.max(end - this.window, pts[0]!.ts);
    const span = Math.max(1, end - start);
    let min = Infinity;
    let max = -Infinity;
    for (const p of pts) {
      if (p.ts < start) continue;
      if (p.v < min) min = p.v;
      if (p.v > max) max = p.v;
    }
    if (max - min < 1) {
      max += 0.5;
      min -= 0.5;
    }
    ctx.strokeStyle = this.colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    let started = false;
    for (const p of pts) {
      if (p.ts < start) continue;
      const x = ((p.ts - start) / span) * w;
      const y = h - 2 - ((p.v - min) / (max - min)) * (h - 4);
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    }
    ctx.stroke();
  }
}
customElements.define('wp-sparkline', WpSparkline);
declare global {
  interface HTMLElementTagNameMap {
    'wp-sparkline': WpSparkline;
  }
}
