// The operator's buttons for one alarm — Acknowledge, Silence 2 min, Resolve — for nurses and
// doctors only, each enabled when the lifecycle accepts it from the alarm's state. Used by the
// ward alarm list and the patient panel. A refusal shows the server's reason next to the buttons.
import { LitElement, css, html, nothing } from 'lit';
import { session } from '../api.ts';
import { liveClient } from '../context.ts';
import { canAct, legalActions } from '../logic/alarms.ts';
import type { AlarmAction, AlertEvent } from '../../../server/domain/index.ts';
import { theme } from '../styles.ts';

export type ActFn = (action: AlarmAction, id: string, comment?: string) => Promise<AlertEvent>;

const LABEL: Record<AlarmAction, string> = { ack: 'Acknowledge', silence: 'Silence 2 min', resolve: 'Resolve' };

/** Sent (bubbling, composed) after the server accepted an action; detail: the updated alarm. */
export const ALARM_ACTED = 'alarm-acted';

export class WpAlarmActions extends LitElement {
  static override properties = {
    alarm: { attribute: false },
    bed: { type: String },
    act: { attribute: false },
    busy: { state: true },
    error: { state: true },
  };
  declare alarm: AlertEvent | null;
  /** Named in each button's accessible name: "Acknowledge bed 7: …". */
  declare bed: string | null;
  /** Injectable for tests; by default the command goes over the live connection. */
  declare act: ActFn;
  declare busy: AlarmAction | null;
  declare error: string;

  constructor() {
    super();
    this.alarm = null;
    this.bed = null;
    this.act = (action, id, comment) => liveClient().act(action, id, comment);
    this.busy = null;
    this.error = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; }
      .buttons { display: flex; gap: 0.4rem; flex-wrap: wrap; }
      button { padding: 0.3rem 0.65rem; white-space: nowrap; }
      button[data-action='ack'][aria-disabled='false'] { background: #1f4f86; border-color: #3d7cc9; font-weight: 700; }
      /* aria-disabled, not disabled: the button keeps keyboard focus after the state it acted on changes. */
      button[aria-disabled='true'] { opacity: 0.45; cursor: not-allowed; border-color: var(--line); }
      .error { color: #ff8a80; margin: 0.3rem 0 0; font-size: 0.9rem; }
    `,
  ];

  private async run(action: AlarmAction): Promise<void> {
    const alarm = this.alarm;
    if (!alarm || this.busy || !legalActions(alarm).includes(action)) return;
    this.busy = action;
    this.error = '';
    try {
      const updated = await this.act(action, alarm.id);
      this.dispatchEvent(new CustomEvent(ALARM_ACTED, { detail: updated, bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.busy = null;
    }
  }

  override render() {
    const a = this.alarm;
    if (!a || !canAct(session.user?.role)) return nothing;
    const legal = legalActions(a);
    const where = this.bed ? `bed ${this.bed}` : 'this patient';
    return html`<div class="buttons" role="group" aria-label="Actions for ${where}: ${a.message}">
        ${(['ack', 'silence', 'resolve'] as const).map(
          (action) => html`<button
            type="button"
            data-action=${action}
            aria-label="${LABEL[action]} ${where}: ${a.message}"
            aria-disabled=${legal.includes(action) && this.busy === null ? 'false' : 'true'}
            aria-busy=${this.busy === action ? 'true' : 'false'}
            @click=${() => void this.run(action)}
          >
            ${LABEL[action]}
          </button>`,
        )}
      </div>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}`;
  }
}
customElements.define('wp-alarm-actions', WpAlarmActions);
declare global {
  interface HTMLElementTagNameMap {
    'wp-alarm-actions': WpAlarmActions;
  }
}
