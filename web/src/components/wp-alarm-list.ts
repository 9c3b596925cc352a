// The ward's alarm desk (/ward/{ward}/alarms): every open alarm, highest priority first and newest
// first within a priority, with its state, silence countdown and escalation, and (for nurses and
// doctors) the buttons to acknowledge, silence or resolve it; below, the ward's recent history.
import { LitElement, css, html, nothing } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { cssProps } from '../directives/css-props.ts';
import { api, session } from '../api.ts';
import { store } from '../context.ts';
import { ClockController } from '../controllers/clock-controller.ts';
import { LiveSubscriptionController } from '../controllers/live-subscription-controller.ts';
import { canAct, latchedText, escalationText, flashes, isLatchedCleared, sortAlarms, stateText, PRIORITY_STYLE, type Priority } from '../logic/alarms.ts';
import { formatAge } from '../logic/freshness.ts';
import { formatClock, formatSpan } from '../logic/panel-format.ts';
import { readableText } from '../logic/panel-breakdown.ts';
import type { AlertEvent } from '../../../server/domain/index.ts';
import { theme } from '../styles.ts';
import './wp-alarm-actions.ts';

type Row = AlertEvent & { bed: string | null; name: string };
type HistoryItem = AlertEvent & { bed: string | null };

const HISTORY_LIMIT = 50;
/** Alarms reach the database through a batch writer: re-read the history a moment after a change. */
const HISTORY_DELAY_MS = 2000;

export class WpAlarmList extends LitElement {
  static override properties = {
    ward: { type: String },
    alarms: { state: true },
    history: { state: true },
    historyError: { state: true },
  };
  declare ward: string;
  declare alarms: Row[];
  declare history: HistoryItem[] | null;
  declare historyError: string;
  /** Silence countdowns and "since" ages. */
  private readonly clock = new ClockController(this);
  private historyTimer: number | undefined;
  private signature = '';
  private readonly live = new LiveSubscriptionController(this, {
    key: () => this.ward,
    subscribe: ({ client, key: ward, opened, since }) => {
      if (opened) this.follow();
      const off = store.subscribe(() => this.collect());
      client
        .subscribe({ ward })
        .then(() => this.collect())
        .catch(() => undefined);
      // Back from a lost connection: what changed meanwhile is in the history.
      if (since !== null) void this.loadHistory();
      return () => {
        off();
        client.unsubscribe({ ward });
      };
    },
  });

  constructor() {
    super();
    this.ward = '';
    this.alarms = [];
    this.history = null;
    this.historyError = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; padding: 1rem 1.5rem; }
      h1 { margin: 0 0 0.8rem; font-size: 1.6rem; }
      h2 { margin: 2rem 0 0.5rem; font-size: 1.2rem; }
      table { border-collapse: collapse; width: 100%; font-size: 1.1rem; }
      th, td { text-align: left; padding: 0.5rem 0.7rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
      th { color: var(--muted); font-weight: 600; }
      .prio { font-weight: 800; padding: 0.15rem 0.6rem; border-radius: 4px; display: inline-block; min-width: 5.5rem; text-align: center; text-transform: uppercase; font-size: 0.9rem; }
      /* The row says at a glance who still needs to respond: unanswered alarms get a bar in their colour. */
      tr.open td:first-child { border-left: 6px solid transparent; }
      tr.open.flash td:first-child { border-left-color: var(--prio); }
      .state { font-weight: 700; white-space: nowrap; font-variant-numeric: tabular-nums; }
      .state.active { color: var(--text); }
      .state.acknowledged, .state.silenced { color: var(--muted); }
      .cleared { display: block; color: #26c6da; font-size: 0.9rem; font-weight: 600; }
      .since, .esc, .who { white-space: nowrap; }
      .since, .esc { color: var(--muted); }
      /* Three buttons side by side: the message column is the one that wraps. */
      td.actions wp-alarm-actions { min-width: max-content; }
      .esc.up { color: #ffb74d; font-weight: 700; }
      .empty { color: var(--muted); }
      table.history { font-size: 0.95rem; }
      table.history th, table.history td { padding: 0.3rem 0.6rem; }
      table.history .prio { min-width: 4rem; font-size: 0.75rem; }
      table.history tr.resolved td { color: var(--muted); }
      .error { color: #ff8a80; }
    `,
  ];

  private get now(): number {
    return this.clock.now;
  }

  /** Start on a ward (or on this one again): its open alarms from the store, its history. */
  private follow(): void {
    this.signature = '';
    this.history = null;
    this.collect();
    void this.loadHistory();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.historyTimer);
  }

  private collect(): void {
    const all: Row[] = [];
    for (const p of store.patients.values()) {
      if (p.ward !== this.ward) continue;
      for (const a of p.alerts) if (a.state !== 'resolved') all.push({ ...a, bed: p.bed, name: p.name });
    }
    this.alarms = sortAlarms(all);
    const signature = all.map((a) => `${a.id}:${a.state}:${a.updatedAt}`).sort().join(',');
    if (signature !== this.signature) {
      const first = this.signature === '';
      this.signature = signature;
      if (!first) {
        clearTimeout(this.historyTimer);
        this.historyTimer = window.setTimeout(() => void this.loadHistory(), HISTORY_DELAY_MS);
      }
    }
  }

  private async loadHistory(): Promise<void> {
    const ward = this.ward;
    try {
      const r = await api<{ items: HistoryItem[] }>('GET', `/api/alerts?ward=${encodeURIComponent(ward)}&order=recent&limit=${HISTORY_LIMIT}`);
      if (ward !== this.ward) return;
      // The server pages by priority; a history reads newest first.
      this.history = [...r.items].sort((a, b) => b.ts - a.ts);
      this.historyError = '';
    } catch (err) {
      if (ward !== this.ward) return;
      this.historyError = `History could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private chip(p: Priority) {
    const s = PRIORITY_STYLE[p];
    return html`<span class="prio" style=${cssProps({ background: s.colour, color: readableText(s.colour, s.text) })} title=${s.label}>${p}</span>`;
  }

  private escalation(a: Row) {
    const text = escalationText(a.escalationLevel, store.escalations.get(a.id)?.role);
    return html`<span class="esc ${text ? 'up' : ''}">${text || '–'}</span>`;
  }

  private openTable() {
    const acts = canAct(session.user?.role);
    if (this.alarms.length === 0) return html`<p class="empty">No open alarms.</p>`;
    return html`<table aria-label="Open alarms">
      <thead>
        <tr>
          <th scope="col">Priority</th><th scope="col">Bed</th><th scope="col">Patient</th><th scope="col">Alarm</th><th scope="col">State</th><th scope="col">Since</th
          ><th scope="col">Escalation</th>${acts ? html`<th scope="col">Actions</th>` : nothing}
        </tr>
      </thead>
      <tbody>
        ${repeat(
          this.alarms,
          (a) => a.id,
          (a) => html`<tr class="open ${flashes(a) ? 'flash' : ''}" data-alarm=${a.id} data-bed=${a.bed ?? ''} data-kind=${a.kind} data-priority=${a.priority} data-state=${a.state} style=${cssProps({ '--prio': PRIORITY_STYLE[a.priority].colour })}>
            <td>${this.chip(a.priority)}</td>
            <td>${a.bed ?? '–'}</td>
            <td class="who"><a href="/patient/${a.patientId}">${a.name}</a></td>
            <td>${a.message}${isLatchedCleared(a) ? html`<span class="cleared">${latchedText(a)}</span>` : nothing}</td>
            <td><span class="state ${a.state}">${stateText(a, this.now)}</span></td>
            <td class="since">${formatAge(this.now - a.ts)} ago</td>
            <td>${this.escalation(a)}</td>
            ${acts ? html`<td class="actions"><wp-alarm-actions .alarm=${a} .bed=${a.bed}></wp-alarm-actions></td>` : nothing}
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private historyTable() {
    if (this.historyError) return html`<p class="error" role="status">${this.historyError}</p>`;
    if (this.history === null) return html`<p class="empty">Loading…</p>`;
    if (this.history.length === 0) return html`<p class="empty">No alarms yet.</p>`;
    const names = new Map([...store.patients.values()].map((p) => [p.id, p.name]));
    return html`<table class="history" aria-label="Recent alarm history">
      <thead>
        <tr><th scope="col">Started</th><th scope="col">Priority</th><th scope="col">Bed</th><th scope="col">Patient</th><th scope="col">Alarm</th><th scope="col">State</th><th scope="col">Duration</th></tr>
      </thead>
      <tbody>
        ${this.history.map(
          (a) => html`<tr class=${a.state}>
            <td>${formatClock(a.ts, this.now)}</td>
            <td>${this.chip(a.priority)}</td>
            <td>${a.bed ?? '–'}</td>
            <td class="who"><a href="/patient/${a.patientId}">${names.get(a.patientId) ?? 'patient'}</a></td>
            <td>${a.message}</td>
            <td>${a.state}</td>
            <td>${formatSpan(a.ts, a.endedAt, this.now)}${a.endedAt ? '' : ' so far'}</td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  override render() {
    return html`<h1>Open alarms — ward ${this.ward}</h1>
      ${this.openTable()}
      <h2>Recent history <small class="empty">(last ${HISTORY_LIMIT}, all states)</small></h2>
      ${this.historyTable()}`;
  }
}
customElements.define('wp-alarm-list', WpAlarmList);
declare global {
  interface HTMLElementTagNameMap {
    'wp-alarm-list': WpAlarmList;
  }
}
