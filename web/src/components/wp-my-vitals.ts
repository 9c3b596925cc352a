// "My vitals": a patient account's own last 24 h (and a linked family member's), as charts of the
// vitals and the latest NEWS2 score; a newest value past its freshness window is shown greyed with
// its age, as on the ward board. Reads GET /api/patients/{id}/vitals and /score (own scope only).
import { LitElement, css, html, nothing } from 'lit';
import { api } from '../api.ts';
import { theme } from '../styles.ts';
import { MY_VITALS, latestOf, scoreText, seriesOf, type Bucket, type Latest, type MyVital, type RawReading } from '../logic/my-vitals.ts';
import type { XY } from '../logic/panel-series.ts';
import './wp-vital-chart.ts';

const COLOURS: Record<MyVital, string> = { hr: '#69f0ae', spo2: '#4fc3f7', rr: '#ffd54f', temp: '#ffb74d', sbp: '#f48fb1' };
const DAY = 24 * 3600_000;

/** What the page shows; loaded by `load`, or set directly (tests). */
export interface MyVitalsData {
  patients: { id: string; name: string }[];
  patientId: string;
  from: number;
  to: number;
  series: Record<MyVital, XY[]>;
  latest: Partial<Record<MyVital, Latest>>;
  score: string;
}

export class WpMyVitals extends LitElement {
  static override properties = { data: { attribute: false }, error: { state: true } };
  declare data: MyVitalsData | null;
  declare error: string;

  constructor() {
    super();
    this.data = null;
    this.error = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; padding: 1rem 1.5rem; }
      header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
      .score { font-size: 1.4rem; font-weight: 700; }
      .latest { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: 0.5rem 0 1rem; padding: 0; list-style: none; }
      .latest .stale { color: var(--muted); }
      .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
      wp-vital-chart { height: 14rem; }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (!this.data) void this.load();
  }

  async load(patientId?: string): Promise<void> {
    try {
      const patients = (await api<{ items: { id: string; name: string }[] }>('GET', '/api/patients?limit=20')).items;
      const id = patientId ?? patients[0]?.id;
      if (!id) {
        this.error = 'No patient record is linked to this account.';
        return;
      }
      const to = Date.now();
      const from = to - DAY;
      const range = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
      const [buckets, raw, score] = await Promise.all([
        api<{ items: Bucket[] }>('GET', `/api/patients/${id}/vitals?${range}&bucket=5m`),
        api<{ items: RawReading[] }>('GET', `/api/patients/${id}/vitals?from=${new Date(to - 3 * 3600_000).toISOString()}&to=${new Date(to).toISOString()}`),
        api<{ news2: { total: number; band: string; partial?: boolean }; stale?: boolean }>('GET', `/api/patients/${id}/score`).catch(() => null),
      ]);
      this.data = { patients, patientId: id, from, to, series: seriesOf(buckets.items), latest: latestOf(raw.items, Date.now()), score: scoreText(score) };
      this.error = '';
    } catch (err) {
      this.error = `Could not load your vitals: ${(err as Error).message}`;
    }
  }

  override render() {
    if (this.error) return html`<p role="alert">${this.error}</p>`;
    const d = this.data;
    if (!d) return html`<p>Loading…</p>`;
    return html`<header>
        <h1>My vitals</h1>
        ${d.patients.length > 1
          ? html`<label
              >Patient
              <select @change=${(e: Event) => void this.load((e.target as HTMLSelectElement).value)}>
                ${d.patients.map((p) => html`<option value=${p.id} ?selected=${p.id === d.patientId}>${p.name}</option>`)}
              </select></label
            >`
          : nothing}
        <span class="score" data-testid="score">${d.score}</span>
      </header>
      <ul class="latest">
        ${MY_VITALS.map((v) => {
          const l = d.latest[v.key];
          return html`<li class=${l?.stale ? 'stale' : ''} data-vital=${v.key}>
            ${v.heading}: <strong>${l ? l.value.toFixed(v.digits) : '--'}</strong> ${v.unit}${l?.stale ? html` <small>(${l.age})</small>` : nothing}
          </li>`;
        })}
      </ul>
      <p><small>Last 24 hours, 5-minute means. Your care team is alerted to worrying values; if you feel unwell, call for help.</small></p>
      <div class="charts">
        ${MY_VITALS.map(
          (v) => html`<wp-vital-chart
            data-vital=${v.key}
            .heading=${v.heading}
            .unit=${v.unit}
            .digits=${v.digits}
            .series=${[{ label: v.heading, colour: COLOURS[v.key], points: d.series[v.key] }]}
            .limits=${[]}
            .from=${d.from}
            .to=${d.to}
            .gapMs=${15 * 60_000}
            .tickMs=${3 * 3600_000}
            tickUnit="hour"
            note="5-min means"
          ></wp-vital-chart>`,
        )}
      </div>`;
  }
}
customElements.define('wp-my-vitals', WpMyVitals);
declare global {
  interface HTMLElementTagNameMap {
    'wp-my-vitals': WpMyVitals;
  }
}
