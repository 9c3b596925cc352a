// Log in with e-mail and password (REST); the token is kept for the browser session.
import { LitElement, css, html } from 'lit';
import { login, ApiError } from '../api.ts';
import { theme } from '../styles.ts';

export class WpLogin extends LitElement {
  static override properties = { error: { state: true }, busy: { state: true } };
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.error = '';
    this.busy = false;
  }

  static override styles = [
    theme,
    css`
      :host { display: grid; place-items: center; min-height: 100vh; }
      form { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 2rem; width: min(24rem, 90vw); display: grid; gap: 1rem; }
      h1 { margin: 0; font-size: 1.6rem; }
      label { display: grid; gap: 0.3rem; color: var(--muted); }
      .error { color: #ffab91; margin: 0; }
      button { background: #1e64c8; border-color: #1e64c8; font-weight: 600; color: #fff; }
    `,
  ];

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    this.busy = true;
    this.error = '';
    try {
      const user = await login(String(data.get('email')), String(data.get('password')));
      this.dispatchEvent(new CustomEvent('logged-in', { detail: user, bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'cannot reach the server';
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<form @submit=${this.submit} aria-labelledby="title">
      <h1 id="title">WardPulse</h1>
      <label>E-mail <input name="email" type="email" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ''}
      <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>`;
  }
}
customElements.define('wp-login', WpLogin);
declare global {
  interface HTMLElementTagNameMap {
    'wp-login': WpLogin;
  }
}
