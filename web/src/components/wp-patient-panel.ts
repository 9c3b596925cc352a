// The doctor's live view of one patient (/patient/{id}): trends of every vital against the
// patient's alarm limits over a chosen range, the NEWS2 history and breakdown, the alerts, the
// recent lab results with their flags (for the roles that may read them), and
// (for nurses and doctors) a manual observation form. Data comes from PatientDataController.
// Sounds this patient's alarms (IEC 60601-1-8 bursts, AlarmSoundController).
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { cssProps } from '../directives/css-props.ts';
import { session } from '../api.ts';
import { PatientDataController } from '../controllers/patient-data-controller.ts';
import { AlarmSoundController } from '../controllers/alarm-sound-controller.ts';
import { RANGES, RANGE_KEYS, type RangeKey } from '../logic/panel-range.ts';
import type { LimitSpec } from '../logic/panel-limits.ts';
import type { ChartVital } from '../logic/panel-series.ts';
import { breakdownRows, readableText } from '../logic/panel-breakdown.ts';
import { formatClock, formatSpan } from '../logic/panel-format.ts';
import { scoreBadge } from '../logic/score-badge.ts';
import { BAND_STYLE } from '../logic/bands.ts';
import { escalationText, latchedText, formatObsDue, isLatchedCleared, stateText, PRIORITY_STYLE, sortAlarms } from '../logic/alarms.ts';
import { store } from '../context.ts';
import { signalState } from '../logic/freshness.ts';
import { theme } from '../styles.ts';
import { PLAUSIBLE } from '../../../server/domain/vitals.ts';
import type { ChartSeries } from './wp-vital-chart.ts';
import './wp-vital-chart.ts';
import './wp-observation-form.ts';
import './wp-alarm-actions.ts';
import './wp-sound-control.ts';
import './wp-lab-results.ts';
import { readsLabOrders } from '../logic/lab-results.ts';

const COLOURS: Record<ChartVital | 'news2', string> = {
  hr: '#69f0ae',
  spo2: '#4fc3f7',
  rr: '#ffd54f',
  temp: '#ffb74d',
  sbp: '#f48fb1',
  dbp: '#ce93d8',
  news2: '#e6edf7',
};

/** RCP NEWS2: a total of 5 or more is medium risk, 7 or more high. */
const NEWS2_THRESHOLDS: LimitSpec[] = [
  { bound: { high: 5 }, name: 'NEWS2 medium', shade: { low: false, high: false }, colour: '#ffb74d' },
  { bound: { high: 7 }, name: 'NEWS2 high', shade: { low: false, high: true }, colour: '#ef5350' },
];

const RECORDS_OBSERVATIONS = new Set(['doctor', 'nurse']);

interface ChartSpec {
  vital: string;
  heading: string;
  unit: string;
  digits: number;
  series: ChartSeries[];
  limits: LimitSpec[];
}

export class WpPatientPanel extends LitElement {
  static override properties = { patientId: { type: String } };
  declare patientId: string;

  private readonly data = new PatientDataController(this);
  /** Added after `data`: its view is current by the time the sound follows it. */
  private readonly sound = new AlarmSoundController(this, { alerts: () => this.data.view?.alerts ?? [] });

  constructor() {
    super();
    this.patientId = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; box-sizing: border-box; padding: 10px 16px 16px; background: var(--bg); min-height: 100%; }
      .top { display: flex; align-items: center; gap: 1rem; flex-wrap: wrap; margin-bottom: 10px; }
      .back { text-decoration: none; font-weight: 600; padding: 0.3rem 0.6rem; border: 1px solid var(--line); border-radius: 6px; }
      .back:hover { border-color: var(--accent); }
      h1 { margin: 0; font-size: 1.6rem; }
      .where { color: var(--muted); font-size: 1.05rem; }
      .chip { display: inline-flex; align-items: center; gap: 0.4rem; padding: 0.25rem 0.7rem; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); }
      .dot { width: 0.7rem; height: 0.7rem; border-radius: 50%; background: var(--stale); }
      .dot.live { background: var(--ok); }
      .chip.nosignal { border: 2px dashed var(--danger); font-weight: 800; }
      .news2 { font-weight: 800; font-size: 1.25rem; padding: 0.2rem 0.8rem; border-radius: 8px; }
      .news2 .band { font-weight: 600; font-size: 0.95rem; margin-left: 0.4rem; }
      .obs { font-weight: 600; padding: 0.2rem 0.6rem; border-radius: 8px; border: 1px solid var(--line); background: var(--panel); font-variant-numeric: tabular-nums; }
      .obs.overdue { color: #26c6da; border-color: #26c6da; font-weight: 800; }
      .partial { font-size: 0.85rem; font-weight: 700; padding: 0.1rem 0.4rem; border-radius: 4px; background: var(--panel-2); color: var(--text); border: 1px solid var(--line); }
      .spacer { flex: 1; }
      .ranges { display: flex; gap: 0; }
      .ranges button { border-radius: 0; margin-left: -1px; min-width: 4.2rem; }
      .ranges button:first-child { border-radius: 6px 0 0 6px; }
      .ranges button:last-child { border-radius: 0 6px 6px 0; }
      .ranges button[aria-pressed='true'] { background: #1f4f86; border-color: #3d7cc9; font-weight: 700; position: relative; }
      .status { color: var(--muted); font-size: 0.9rem; min-width: 6rem; }
      .status.err { color: #ff8a80; }
      .layout { display: grid; grid-template-columns: minmax(0, 1fr) 400px; gap: 12px; }
      .charts { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); grid-auto-rows: minmax(250px, calc((100vh - 150px) / 3)); gap: 10px; }
      aside { display: flex; flex-direction: column; gap: 12px; min-width: 0; }
      section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px 10px; }
      h2 { margin: 0 0 6px; font-size: 1.05rem; }
      h2 small { font-weight: 400; color: var(--muted); font-size: 0.85rem; margin-left: 0.3rem; }
      table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
      th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); }
      thead th { color: var(--muted); font-weight: 600; font-size: 0.85rem; }
      td.sub { text-align: center; font-weight: 800; width: 3rem; border-radius: 4px; }
      tr.missing td { color: var(--muted); }
      tfoot th, tfoot td { border-bottom: none; font-weight: 800; }
      ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
      li { display: grid; grid-template-columns: auto minmax(0, 1fr) auto; gap: 0.5rem; align-items: baseline; font-size: 0.92rem; }
      .prio { font-weight: 800; font-size: 0.75rem; text-transform: uppercase; padding: 0.1rem 0.4rem; border-radius: 4px; }
      .msg { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .when { color: var(--muted); font-size: 0.82rem; white-space: nowrap; }
      .ended .msg { color: var(--muted); }
      li.active-alarm { padding-bottom: 6px; border-bottom: 1px solid var(--line); }
      li.active-alarm .detail { grid-column: 1 / -1; display: flex; flex-direction: column; gap: 4px; }
      .state { font-weight: 700; font-variant-numeric: tabular-nums; }
      .cleared { color: #26c6da; font-weight: 600; font-size: 0.85rem; }
      .esc { color: #ffb74d; font-weight: 700; font-size: 0.85rem; }
      .none { color: var(--muted); margin: 0; font-size: 0.92rem; }
      h3 { margin: 8px 0 4px; font-size: 0.9rem; color: var(--muted); font-weight: 600; }
      .error { color: #ff8a80; font-size: 1.2rem; padding: 2rem; }
      @media (max-width: 1300px) {
        .layout { grid-template-columns: minmax(0, 1fr); }
        .charts { grid-auto-rows: 280px; }
      }
      @media (max-width: 800px) {
        .charts { grid-template-columns: minmax(0, 1fr); }
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('patientId') && this.patientId) this.data.setPatient(this.patientId);
  }

  private header() {
    const d = this.data;
    const rec = d.record;
    const view = d.view;
    const name = view?.name ?? rec?.name ?? 'Patient';
    const ward = view?.ward ?? rec?.ward ?? null;
    const bed = view?.bed ?? rec?.bed ?? null;
    const signal = signalState(view?.devices ?? rec?.devices ?? []);
    const score = view?.score?.news2;
    const band = score ? BAND_STYLE[score.band] : null;
    const badge = scoreBadge(view?.score, d.window.to);
    const obs = formatObsDue(view?.score?.observations, d.window.to);
    return html`<div class="top">
      ${ward ? html`<a class="back" href="/ward/${encodeURIComponent(ward)}">← Ward ${ward}</a>` : nothing}
      <h1>${name}</h1>
      <span class="where">${ward ? `Ward ${ward}` : ''}${bed ? ` · Bed ${bed}` : ''}</span>
      <span class="chip ${signal === 'no-signal' ? 'nosignal' : ''}" role="status" data-signal=${signal}>
        <span class="dot ${signal === 'live' ? 'live' : ''}" aria-hidden="true"></span>
        ${signal === 'live' ? 'Monitoring' : signal === 'no-device' ? 'No device' : 'No signal'}
      </span>
      ${score && band && badge.state === 'complete'
        ? html`<span class="news2" style=${cssProps({ background: band.background, color: band.text })} title=${band.label} data-band=${score.band} data-state="complete"
              >NEWS2 ${score.total}<span class="band">${band.label.split(' (')[0]}</span></span
            >`
        : html`<span class="news2" style=${cssProps({ background: 'var(--panel-2)', color: badge.state === 'stale' ? 'var(--stale)' : 'var(--text)' })} data-state=${badge.state} title=${badge.description}
              >${badge.text}</span
            >${badge.state === 'partial' ? html`<span class="partial" title=${badge.description}>incomplete</span>` : nothing}`}
      ${obs
        ? html`<span class="obs ${obs.overdue ? 'overdue' : ''}" data-obs=${obs.overdue ? 'overdue' : 'due'} title="Next manual observations (RCP NEWS2 minimum monitoring frequency)"
            >${obs.text}</span
          >`
        : nothing}
      <span class="spacer"></span>
      ${this.soundControl()}
      <span class="status ${d.historyError ? 'err' : ''}" role="status"
        >${d.historyError || d.liveError || (d.loading ? 'Loading…' : d.truncated ? 'Showing the first readings only' : '')}</span
      >
      <div class="ranges" role="group" aria-label="Time range">
        ${RANGE_KEYS.map(
          (k) => html`<button type="button" aria-pressed=${d.range === k ? 'true' : 'false'} data-range=${k} @click=${() => this.pick(k)}>
            ${RANGES[k].label}
          </button>`,
        )}
      </div>
    </div>`;
  }

  private soundControl() {
    const s = this.sound;
    return html`<wp-sound-control
      .state=${s.state}
      .priority=${s.priority}
      .paused=${s.paused ? { priority: s.paused.alarm.priority, remainingMs: s.paused.remainingMs } : null}
      ?unsupported=${s.unsupported}
      @sound-enable=${() => s.enable()}
      @sound-mute=${() => s.mute()}
      @sound-unmute=${() => s.unmute()}
    ></wp-sound-control>`;
  }

  private pick(k: RangeKey): void {
    this.data.setRange(k);
  }

  private charts() {
    const d = this.data;
    const lim = d.record?.effectiveLimits ?? {};
    const v = d.vitals;
    const one = (k: ChartVital, label: string): ChartSeries[] => [{ label, colour: COLOURS[k], points: v[k].points }];
    const specs: ChartSpec[] = [
      { vital: 'hr', heading: 'Heart rate', unit: PLAUSIBLE.hr.unit, digits: 0, series: one('hr', 'HR'), limits: [{ bound: lim.hr, name: 'HR' }] },
      { vital: 'spo2', heading: 'SpO₂', unit: PLAUSIBLE.spo2.unit, digits: 0, series: one('spo2', 'SpO₂'), limits: [{ bound: lim.spo2, name: 'SpO₂' }] },
      { vital: 'rr', heading: 'Respiratory rate', unit: PLAUSIBLE.rr.unit, digits: 0, series: one('rr', 'RR'), limits: [{ bound: lim.rr, name: 'RR' }] },
      {
        vital: 'bp',
        heading: 'Blood pressure',
        unit: PLAUSIBLE.sbp.unit,
        digits: 0,
        series: [
          { label: 'Systolic', colour: COLOURS.sbp, points: v.sbp.points },
          { label: 'Diastolic', colour: COLOURS.dbp, points: v.dbp.points },
        ],
        limits: [
          // Both pairs of limits on one chart: each drawn in its series' colour, and only the
          // outer zones shaded (below SBP low is where diastolic values normally are).
          { bound: lim.sbp, name: 'SBP', shade: { low: false, high: true }, colour: COLOURS.sbp },
          { bound: lim.dbp, name: 'DBP', shade: { low: true, high: false }, colour: COLOURS.dbp },
        ],
      },
      { vital: 'temp', heading: 'Temperature', unit: PLAUSIBLE.temp.unit, digits: 1, series: one('temp', 'Temp'), limits: [{ bound: lim.temp, name: 'Temp' }] },
    ];
    const spec = RANGES[d.range];
    const note = spec.bucket ? `${spec.bucket.replace('m', '-min')} means` : '';
    return html`<div class="charts">
      ${specs.map(
        (c) => html`<wp-vital-chart
          data-vital=${c.vital}
          .heading=${c.heading}
          .unit=${c.unit}
          .digits=${c.digits}
          .series=${c.series}
          .limits=${c.limits}
          .from=${d.window.from}
          .to=${d.window.to}
          .rev=${d.rev}
          .decimate=${spec.decimate}
          .gapMs=${spec.gapMs}
          .tickMs=${spec.tickMs}
          .tickUnit=${spec.tickUnit}
          .note=${note}
        ></wp-vital-chart>`,
      )}
      <wp-vital-chart
        data-vital="news2"
        heading="NEWS2 score"
        .series=${[{ label: 'NEWS2', colour: COLOURS.news2, points: d.scores.points }]}
        .limits=${NEWS2_THRESHOLDS}
        limitLabel="band thresholds"
        .from=${d.window.from}
        .to=${d.window.to}
        .rev=${d.rev}
        .gapMs=${Number.POSITIVE_INFINITY}
        .tickMs=${spec.tickMs}
        .tickUnit=${spec.tickUnit}
        .current=${d.view?.score?.news2.total ?? null}
        stepped
      ></wp-vital-chart>
    </div>`;
  }

  private breakdown() {
    const view = this.data.view;
    const score = view?.score;
    // The values the server scored (streamed ones as their 1-minute median), so the sub-score and
    // its value always agree; the live number is on the chart.
    const values: Record<string, unknown> = (score?.scored as Record<string, unknown> | undefined) ?? Object.fromEntries(Object.entries(view?.values ?? {}).map(([k, s]) => [k, s?.value]));
    const rows = breakdownRows(score?.news2.parameters, values);
    return html`<section aria-labelledby="bd-h">
      <h2 id="bd-h">NEWS2 breakdown${score ? html`<small>scored ${formatClock(score.ts, this.data.window.to)}</small>` : nothing}</h2>
      <table>
        <thead>
          <tr><th scope="col">Parameter</th><th scope="col" title="HR, SpO₂ and RR from a monitor are scored as the median of their last minute, so an artefact cannot drive the score">Scored value</th><th scope="col">Score</th></tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) => html`<tr class=${r.missing ? 'missing' : ''} data-parameter=${r.parameter}>
              <th scope="row">${r.label}</th>
              <td>${r.value}</td>
              <td class="sub" style=${cssProps({ background: r.background, color: r.text })} title=${r.missing ? 'missing' : `scores ${r.score}`}>
                ${r.score}${r.missing ? html`<span class="sr-only">missing</span>` : nothing}
              </td>
            </tr>`,
          )}
        </tbody>
        ${score
          ? html`<tfoot>
              <tr><th scope="row">Total</th><td>${score.news2.partial ? 'partial' : ''}</td><td class="sub">${score.news2.total}</td></tr>
            </tfoot>`
          : nothing}
      </table>
    </section>`;
  }

  private alerts() {
    const d = this.data;
    const now = d.window.to;
    const active = sortAlarms(d.view?.alerts ?? []);
    const activeIds = new Set(active.map((a) => a.id));
    const recent = d.recentAlerts.filter((a) => !activeIds.has(a.id));
    // Small text on the priority colour must reach 4.5:1 (WCAG AA) whatever PRIORITY_STYLE says.
    const chip = (p: keyof typeof PRIORITY_STYLE) =>
      html`<span class="prio" style=${cssProps({ background: PRIORITY_STYLE[p].colour, color: readableText(PRIORITY_STYLE[p].colour, PRIORITY_STYLE[p].text) })} title=${PRIORITY_STYLE[p].label}
        >${p}</span
      >`;
    return html`<section aria-labelledby="al-h">
      <h2 id="al-h">Alerts</h2>
      <h3>Active</h3>
      ${active.length === 0
        ? html`<p class="none">No active alerts.</p>`
        : html`<ul aria-label="Active alerts">
            ${repeat(
              active,
              (a) => a.id,
              (a) => {
                const esc = escalationText(a.escalationLevel, store.escalations.get(a.id)?.role);
                return html`<li class="active-alarm" data-alarm=${a.id} data-priority=${a.priority} data-state=${a.state}>
                  ${chip(a.priority)}<span class="msg" title=${a.message}>${a.message}</span
                  ><span class="when"><span class="state">${stateText(a, now)}</span> · ${formatSpan(a.ts, null, now)}</span>
                  <div class="detail">
                    ${isLatchedCleared(a) ? html`<span class="cleared">${latchedText(a)}</span>` : nothing}
                    ${esc ? html`<span class="esc">${esc}</span>` : nothing}
                    <wp-alarm-actions .alarm=${a} .bed=${d.view?.bed ?? null}></wp-alarm-actions>
                  </div>
                </li>`;
              },
            )}
          </ul>`}
      <h3>Recent</h3>
      ${recent.length === 0
        ? html`<p class="none">None.</p>`
        : html`<ul aria-label="Recent alerts">
            ${recent.slice(0, 6).map(
              (a) => html`<li class=${a.endedAt ? 'ended' : ''}>
                ${chip(a.priority)}<span class="msg" title=${a.message}>${a.message}</span
                ><span class="when">${formatClock(a.ts, now)}${a.endedAt ? ` · ${formatSpan(a.ts, a.endedAt, now)}` : ` · ${a.state}`}</span>
              </li>`,
            )}
          </ul>`}
    </section>`;
  }

  private labs() {
    const d = this.data;
    if (!readsLabOrders(session.user?.role)) return nothing;
    return html`<section aria-labelledby="lab-h">
      <h2 id="lab-h">Lab results</h2>
      <wp-lab-results .orders=${d.labOrders} .now=${d.window.to} .error=${d.labError}></wp-lab-results>
    </section>`;
  }

  private form() {
    const role = session.user?.role;
    if (!role || !RECORDS_OBSERVATIONS.has(role)) return nothing;
    return html`<section aria-labelledby="obs-h">
      <h2 id="obs-h">Manual observation</h2>
      <wp-observation-form .patientId=${this.patientId}></wp-observation-form>
    </section>`;
  }

  override render() {
    const d = this.data;
    if (d.recordError && !d.view) return html`<p class="error" role="alert">${d.recordError}</p>`;
    return html`${this.header()}
      <div class="layout">
        ${this.charts()}
        <aside>${this.breakdown()} ${this.alerts()} ${this.labs()} ${this.form()}</aside>
      </div>`;
  }
}
customElements.define('wp-patient-panel', WpPatientPanel);
declare global {
  interface HTMLElementTagNameMap {
    'wp-patient-panel': WpPatientPanel;
  }
}
