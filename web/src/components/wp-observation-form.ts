// A nurse's manual observation for one patient. Sends only the fields filled in; the server
// scores it like a device reading. Shows the server's own message when it refuses one.
import { LitElement, css, html, nothing } from 'lit';
import { api, ApiError } from '../api.ts';
import { ACVPU_LEVELS, OBS_FIELDS, observationBody, type ObservationBody } from '../logic/panel-observation.ts';
import { PLAUSIBLE as OBS_PLAUSIBLE, type NumericVital as ObsNumeric } from '../../../server/domain/index.ts';
import { formatClock } from '../logic/panel-format.ts';
import { theme } from '../styles.ts';

export class WpObservationForm extends LitElement {
  static override properties = {
    patientId: { type: String },
    sending: { state: true },
    error: { state: true },
    done: { state: true },
  };
  declare patientId: string;
  /** The patient's current oxygen status: the box starts there. */
  declare sending: boolean;
  declare error: string;
  declare done: string;

  constructor() {
    super();
    this.patientId = '';
    this.sending = false;
    this.error = '';
    this.done = '';
  }

  static override styles = [
    theme,
    css`
      :host { display: block; }
      form { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.5rem 0.6rem; }
      label { display: flex; flex-direction: column; gap: 0.2rem; font-size: 0.85rem; color: var(--muted); min-width: 0; }
      label .unit { color: var(--stale); }
      input[type='number'] { margin-top: auto; }
      input[type='number'], select { width: 100%; box-sizing: border-box; padding: 0.35rem 0.5rem; font-variant-numeric: tabular-nums; }
      input:invalid { border-color: var(--danger); }
      .wide { grid-column: span 3; }
      .check { grid-column: 1 / -1; flex-direction: row; align-items: center; gap: 0.5rem; color: var(--text); font-size: 0.95rem; }
      .check input { width: 1.2rem; height: 1.2rem; margin: 0; accent-color: var(--accent); }
      .actions { grid-column: 1 / -1; display: flex; align-items: center; gap: 0.8rem; }
      button[type='submit'] { background: #1f4f86; border-color: #3d7cc9; font-weight: 700; white-space: nowrap; flex: none; }
      button[disabled] { opacity: 0.6; cursor: progress; }
      .msg { margin: 0; font-size: 0.9rem; }
      .hint { margin: 0; font-size: 0.8rem; color: var(--muted); }
      .err { color: #ff8a80; }
      .ok { color: #a5d6a7; }
    `,
  ];

  override render() {
    return html`<form @submit=${this.submit} aria-describedby="obs-msg">
      ${OBS_FIELDS.map(
        (f) => html`<label
          ><span>${f.label} <span class="unit">${OBS_PLAUSIBLE[f.key].unit}</span></span>
          <input
            type="number"
            name=${f.key}
            min=${OBS_PLAUSIBLE[f.key].min}
            max=${OBS_PLAUSIBLE[f.key].max}
            step=${f.step}
            inputmode=${f.step < 1 ? 'decimal' : 'numeric'}
            autocomplete="off"
        /></label>`,
      )}
      <label class="wide"
        ><span>Consciousness (ACVPU)</span>
        <select name="acvpu">
          <option value="">not assessed</option>
          ${ACVPU_LEVELS.map((l) => html`<option value=${l.value}>${l.label}</option>`)}
        </select></label
      >
      <label class="wide"
        ><span>Air or oxygen</span>
        <!-- An assessment, never pre-filled from the last one: "not assessed" records nothing. -->
        <select name="o2">
          <option value="">not assessed</option>
          <option value="air">Air</option>
          <option value="oxygen">Supplemental oxygen</option>
        </select></label
      >
      <p class="hint wide">A full set — all six numbers, consciousness and air/oxygen — restarts the observations-due timer.</p>
      <div class="actions">
        <button type="submit" ?disabled=${this.sending}>${this.sending ? 'Recording…' : 'Record observation'}</button>
        <div id="obs-msg" aria-live="polite">
          ${this.error ? html`<p class="msg err" role="alert">${this.error}</p>` : nothing}
          ${this.done ? html`<p class="msg ok" role="status">${this.done}</p>` : nothing}
        </div>
      </div>
    </form>`;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    if (this.sending) return;
    this.done = '';
    if (!form.checkValidity()) {
      form.reportValidity();
      this.error = 'Check the highlighted fields.';
      return;
    }
    const data = new FormData(form);
    const numbers: Partial<Record<ObsNumeric, string>> = {};
    for (const f of OBS_FIELDS) numbers[f.key] = String(data.get(f.key) ?? '');
    const o2 = String(data.get('o2') ?? '');
    const draft = observationBody({
      numbers,
      acvpu: String(data.get('acvpu') ?? ''),
      o2: o2 === 'oxygen' ? true : o2 === 'air' ? false : null,
    });
    if (!draft.ok) {
      this.error = draft.errors.join('; ');
      return;
    }
    this.error = '';
    this.sending = true;
    try {
      const r = await api<{ ts: string; values: ObservationBody }>('POST', `/api/patients/${encodeURIComponent(this.patientId)}/observations`, draft.body);
      this.done = `Recorded at ${formatClock(Date.parse(r.ts), Date.now())}: ${describe(draft.body)}.`;
      form.reset();
      this.dispatchEvent(new CustomEvent('observation-recorded', { detail: r, bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : `Not recorded: ${(err as Error).message}`;
    } finally {
      this.sending = false;
    }
  }
}

function describe(body: ObservationBody): string {
  const parts: string[] = [];
  for (const f of OBS_FIELDS) if (body[f.key] !== undefined) parts.push(`${f.label} ${body[f.key]}`);
  if (body.acvpu) parts.push(`ACVPU ${body.acvpu}`);
  if (body.o2 !== undefined) parts.push(body.o2 ? 'on O₂' : 'on air');
  return parts.join(', ');
}

customElements.define('wp-observation-form', WpObservationForm);
declare global {
  interface HTMLElementTagNameMap {
    'wp-observation-form': WpObservationForm;
  }
}
