// Placeholder until the patient panel lands (charts, score history, observation form).
import { LitElement, html } from 'lit';

export class WpPatientPanel extends LitElement {
  static override properties = { patientId: { type: String } };
  declare patientId: string;
  override render() {
    return html`<p>Patient ${this.patientId}</p>`;
  }
}
customElements.define('wp-patient-panel', WpPatientPanel);
