// One bed on the ward display: readable from across the room, never showing a stale number as
// live, and standing out by IEC 60601-1-8 alarm priority.
import { LitElement, css, html, nothing, svg } from 'lit';
import { cssProps } from '../directives/css-props.ts';
import type { PatientView, Stamped } from '../store.ts';
import { store } from '../context.ts';
import { ageFrom, formatAge, isStale, manualWindowOf, signalState } from '../logic/freshness.ts';
import { assessmentText, scoreBadge } from '../logic/score-badge.ts';
import { flashes, latchedText, formatCountdown, formatObsDue, isLatchedCleared, silenceRemaining, topAlarm, PRIORITY_STYLE } from '../logic/alarms.ts';
import { BAND_STYLE } from '../logic/bands.ts';
import { theme } from '../styles.ts';
import './wp-sparkline.ts';

/** A bell struck through ("audio paused"), drawn: a wall display may have no emoji font (🔕 would show as a box). */
const BELL_OFF = html`<svg class="bell-off" viewBox="0 0 24 24" aria-hidden="true">
  ${svg`<path fill="currentColor" d="M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.07-1.64-5.64-4.5-6.32V4a1.5 1.5 0 0 0-3 0v.68C7.63 5.36 6 7.92 6 11v5l-2 2v1h16v-1z"/>
  <path d="M3.5 3.5l17 17" stroke="var(--panel)" stroke-width="4.5"/><path d="M3.5 3.5l17 17" stroke="currentColor" stroke-width="2"/>`}
</svg>`;

export class WpBedTile extends LitElement {
  static override properties = { patient: { attribute: false }, now: { type: Number }, kiosk: { type: Boolean } };
  declare patient: PatientView;
  declare now: number;
  declare kiosk: boolean;

  constructor() {
    super();
    this.now = Date.now();
    this.kiosk = false;
  }

  static override styles = [
    theme,
    css`
      :host { display: block; container-type: size; min-width: 0; min-height: 0; }
      /* One type unit that follows the tile's height but never outgrows its width. */
      .tile { --u: min(1cqh, 0.55cqw); }
      .tile {
        box-sizing: border-box; height: 100%; display: grid;
        grid-template-rows: 17cqh 1fr 14cqh 11cqh; gap: 1cqh;
        background: var(--panel); border: 0.6cqh solid var(--line); border-radius: 1.2cqh;
        padding: 1.5cqh 2cqw; color: var(--text); text-decoration: none; overflow: hidden; position: relative;
      }
      a.tile:hover { border-color: var(--accent); }
      header { display: flex; align-items: center; gap: 2cqw; min-width: 0; }
      .bed { font-weight: 800; font-size: calc(11 * var(--u)); }
      .name { font-size: calc(8 * var(--u)); color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; flex: 1; }
      .news2 { font-weight: 800; font-size: calc(10 * var(--u)); padding: 0 1.6cqw; border-radius: 1cqh; white-space: nowrap; background: var(--panel-2); color: var(--muted); }
      /* Incomplete: no band colour, an outline that reads "not the whole picture". */
      .news2.partial { background: transparent; color: var(--text); border: 0.4cqh dashed var(--muted); font-size: calc(8.5 * var(--u)); }
      .news2.stale { background: var(--panel-2); color: var(--stale); font-size: calc(8.5 * var(--u)); }
      .more { font-weight: 800; flex: none; padding: 0 1cqw; border: 0.3cqh solid var(--muted); border-radius: 0.8cqh; color: var(--text); }
      .values { display: grid; grid-template-columns: 1.15fr 1.15fr 0.9fr 1.2fr; grid-template-rows: 1fr 1fr; column-gap: 2cqw; min-height: 0; }
      .v { display: flex; flex-direction: column; justify-content: center; min-width: 0; line-height: 1; }
      .v .label { font-size: calc(6.5 * var(--u)); color: var(--muted); }
      .v .num { font-weight: 700; font-size: calc(21 * var(--u)); font-variant-numeric: tabular-nums; white-space: nowrap; }
      .v.small .num { font-size: calc(12 * var(--u)); }
      .v.hr .num { color: #69f0ae; }
      .v.spo2 .num { color: #4fc3f7; }
      .v.stale .num { color: var(--stale); }
      .age { font-size: calc(5.5 * var(--u)); color: var(--stale); white-space: nowrap; }
      .span2 { grid-row: span 2; }
      wp-sparkline { height: 100%; }
      footer { font-size: calc(6.5 * var(--u)); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: var(--muted); display: flex; gap: 2cqw; align-items: center; }
      .dev { display: inline-block; width: 4cqh; height: 4cqh; border-radius: 50%; background: var(--stale); flex: none; }
      .dev.online { background: var(--ok); }
      .nosignal {
        position: absolute; inset: 30% 8% auto 8%; text-align: center; font-weight: 800; font-size: calc(12 * var(--u));
        background: rgba(11, 18, 32, 0.85); border: 0.5cqh dashed var(--stale); color: var(--text); border-radius: 1cqh; padding: 1cqh;
      }
      /* IEC 60601-1-8: high red ~2 Hz, medium yellow ~0.5 Hz, low cyan steady. Flashing only while
         nobody has responded; acknowledged or silenced stays steady in the priority colour. */
      .tile.prio-high { border-color: #e53935; box-shadow: inset 0 0 0 0.6cqh #e53935; }
      .tile.prio-medium { border-color: #fdd835; box-shadow: inset 0 0 0 0.6cqh #fdd835; }
      .tile.prio-low { border-color: #26c6da; box-shadow: inset 0 0 0 0.6cqh #26c6da; }
      .tile.prio-high.flash { box-shadow: none; animation: flash-high 0.5s steps(1, end) infinite; }
      .tile.prio-medium.flash { box-shadow: none; animation: flash-medium 2s steps(1, end) infinite; }
      @keyframes flash-high { 0% { background: #7f1010; } 50% { background: var(--panel); } }
      @keyframes flash-medium { 0% { background: #4d4300; } 50% { background: var(--panel); } }
      .alarm-flag { font-weight: 800; padding: 0 1.5cqw; border-radius: 0.8cqh; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
      .silenced { font-weight: 700; font-variant-numeric: tabular-nums; flex: none; display: inline-flex; align-items: center; gap: 0.8cqw; color: var(--text); }
      .bell-off { width: 1.1em; height: 1.1em; }
      .obs { margin-left: auto; flex: none; font-variant-numeric: tabular-nums; }
      .obs.overdue { color: #26c6da; font-weight: 800; }
      @media (prefers-reduced-motion: reduce) {
        .tile.prio-high.flash, .tile.prio-medium.flash { animation: none; border-width: 1.2cqh; }
        .tile.prio-high.flash { background: #4a0d0d; }
        .tile.prio-medium.flash { background: #3a3300; }
      }
    `,
  ];

  /** Stale by the server's own windows (the score stops using it at the same moment). */
  private stale(key: keyof PatientView['values'], s: Stamped): boolean {
    return isStale(s, key, this.now, store.freshness, manualWindowOf(this.patient.score, key));
  }

  private value(key: keyof PatientView['values'], digits = 0) {
    const s: Stamped | undefined = this.patient.values[key];
    if (!s || typeof s.value !== 'number') return { text: '--', stale: false, age: '' };
    // With no device online, no streamed number is live, however recent.
    const noSignal = s.source !== 'manual' && signalState(this.patient.devices) === 'no-signal';
    const stale = noSignal || this.stale(key, s);
    return { text: s.value.toFixed(digits), stale, age: stale ? formatAge(this.now - ageFrom(s)) : '' };
  }

  /** Air/O₂ and ACVPU as assessed, "–" when nobody has (or the assessment is stale): never a default. */
  private assessments() {
    const fresh = (k: 'o2' | 'acvpu') => {
      const s = this.patient.values[k];
      return s && !this.stale(k, s) ? s.value : undefined;
    };
    return assessmentText(fresh('o2'), fresh('acvpu'));
  }

  private cell(cls: string, label: string, key: keyof PatientView['values'], unit: string, digits = 0) {
    const v = this.value(key, digits);
    return html`<div class="v ${cls} ${v.stale ? 'stale' : ''}" role="group" aria-label="${label}">
      <span class="label">${label}</span>
      <span class="num">${v.text}<span class="sr-only"> ${unit}${v.stale ? `, not live, ${v.age} old` : ''}</span></span>
      ${v.stale ? html`<span class="age" aria-hidden="true">${v.age} ago</span>` : nothing}
    </div>`;
  }

  override render() {
    const p = this.patient;
    if (!p) return nothing;
    const top = topAlarm(p.alerts);
    const prio = top?.priority ?? null;
    const silenced = top?.state === 'silenced' ? formatCountdown(silenceRemaining(top, this.now)) : null;
    const cleared = top ? isLatchedCleared(top) : false;
    const obs = formatObsDue(p.score?.observations, this.now);
    const signal = signalState(p.devices);
    const badge = scoreBadge(p.score, this.now);
    const band = badge.band ? BAND_STYLE[badge.band] : null;
    const others = top ? p.alerts.filter((a) => a.state !== 'resolved' && a.id !== top.id).length : 0;
    const assessed = this.assessments();
    const sys = this.value('sbp');
    const dia = this.value('dbp');
    const bpStale = sys.stale || dia.stale;
    const label = [
      `Bed ${p.bed ?? '?'}`,
      p.name,
      badge.description,
      prio && top ? `${PRIORITY_STYLE[prio].label}${top.state === 'active' ? '' : `, ${top.state}`}${cleared ? `, ${latchedText(top)}` : ''}` : null,
      others > 0 ? `${others} more open alarm${others === 1 ? '' : 's'}` : null,
      silenced ? `silence ends in ${silenced}` : null,
      obs?.text ?? null,
      signal === 'no-signal' ? 'no signal' : null,
    ]
      .filter(Boolean)
      .join(', ');
    const body = html`
      <header>
        <span class="bed">${p.bed ?? '–'}</span>
        <span class="name">${p.name}</span>
        ${band
          ? html`<span class="news2" data-state=${badge.state} style=${cssProps({ background: band.background, color: band.text })} title=${badge.description}>${badge.text}</span>`
          : html`<span class="news2 ${badge.state}" data-state=${badge.state} title=${badge.description}>${badge.text}</span>`}
      </header>
      <div class="values">
        ${this.cell('hr span2', 'HR', 'hr', 'per minute')} ${this.cell('spo2 span2', 'SpO₂', 'spo2', 'percent')}
        ${this.cell('small', 'RR', 'rr', 'per minute')}
        <div class="v small ${bpStale ? 'stale' : ''}" role="group" aria-label="Blood pressure">
          <span class="label">BP</span>
          <span class="num">${sys.text}/${dia.text}<span class="sr-only"> mmHg</span></span>
          ${bpStale ? html`<span class="age" aria-hidden="true">${sys.age || dia.age} ago</span>` : nothing}
        </div>
        ${this.cell('small', 'Temp', 'temp', 'degrees Celsius', 1)}
        <div class="v small" role="group" aria-label="Oxygen and consciousness">
          <span class="label">O₂ · ACVPU</span>
          <span class="num" title=${assessed.o2 === '–' || assessed.acvpu === '–' ? 'not assessed: record an observation' : ''}>${assessed.o2} ${assessed.acvpu}</span>
        </div>
      </div>
      <wp-sparkline .points=${p.recent.hr} .rev=${p.rev} colour="#69f0ae" aria-hidden="true"></wp-sparkline>
      <footer>
        <span class="dev ${signal === 'live' ? 'online' : ''}" title="device ${signal}"></span>
        <span>${signal === 'live' ? 'monitoring' : signal === 'no-device' ? 'no device' : 'no signal'}</span>
        ${top && prio
          ? html`<span class="alarm-flag" style=${cssProps({ background: PRIORITY_STYLE[prio].colour, color: PRIORITY_STYLE[prio].text })} title=${cleared ? `${top.message} — ${latchedText(top)}` : top.message}
              >${cleared ? `cleared: ${top.message}` : top.message}</span
            >`
          : nothing}
        ${others > 0 ? html`<span class="more" title="${others} more open alarm${others === 1 ? '' : 's'}: see the patient's alarms">+${others}</span>` : nothing}
        ${silenced
          ? html`<span class="silenced" title="Audio paused: in ${silenced} the alarm sounds and flashes again, unless acknowledged; a worse condition re-alarms at once">${BELL_OFF}<span class="countdown">${silenced}</span></span>`
          : nothing}
        ${obs ? html`<span class="obs ${obs.overdue ? 'overdue' : ''}">${obs.text}</span>` : nothing}
      </footer>
      ${signal === 'no-signal' ? html`<div class="nosignal" role="status">NO SIGNAL</div>` : nothing}
    `;
    const cls = `tile ${prio ? `prio-${prio}` : ''} ${top && flashes(top) ? 'flash' : ''}`;
    return this.kiosk
      ? html`<article class=${cls} aria-label=${label} data-priority=${prio ?? 'none'}>${body}</article>`
      : html`<a class=${cls} href="/patient/${p.id}" aria-label=${label} data-priority=${prio ?? 'none'}>${body}</a>`;
  }
}
customElements.define('wp-bed-tile', WpBedTile);
declare global {
  interface HTMLElementTagNameMap {
    'wp-bed-tile': WpBedTile;
  }
}
