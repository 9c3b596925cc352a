// Log in with e-mail and password (REST); the token is kept for the browser session. With
// two-factor sign-in the password step is followed by a code step (a TOTP code or a recovery
// code); an account whose role requires 2FA and has none sets up an authenticator first (the key
// and the otpauth:// link shown as text), then sees its recovery codes once.
import { LitElement, css, html, type TemplateResult } from 'lit';
import { ApiError, authApi, type AuthApi } from '../api.ts';
import type { Principal } from '../../../server/domain/index.ts';
import { theme } from '../styles.ts';

type Step = 'password' | 'code' | 'enrol' | 'codes';

/** 'JBSWY3DPEHPK3PXP' → 'JBSW Y3DP EHPK 3PXP': easier to type into an app by hand. */
export const groupSecret = (secret: string) => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

export class WpLogin extends LitElement {
  static override properties = {
    error: { state: true },
    busy: { state: true },
    step: { state: true },
    setup: { state: true },
    recoveryCodes: { state: true },
    auth: { attribute: false },
  };
  declare error: string;
  declare busy: boolean;
  declare step: Step;
  declare setup: { secret: string; otpauthUri: string } | null;
  declare recoveryCodes: string[];
  /** The server calls (api.ts); replaced in component tests. */
  declare auth: AuthApi;
  private mfaToken = '';
  private user: Principal | null = null;

  constructor() {
    super();
    this.error = '';
    this.busy = false;
    this.step = 'password';
    this.setup = null;
    this.recoveryCodes = [];
    this.auth = authApi;
  }

  static override styles = [
    theme,
    css`
      :host { display: grid; place-items: center; min-height: 100vh; }
      form { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 2rem; width: min(26rem, 90vw); display: grid; gap: 1rem; }
      h1 { margin: 0; font-size: 1.6rem; }
      h2 { margin: 0; font-size: 1.2rem; }
      p { margin: 0; }
      label { display: grid; gap: 0.3rem; color: var(--muted); }
      .error { color: #ffab91; margin: 0; }
      button { background: #1e64c8; border-color: #1e64c8; font-weight: 600; color: #fff; }
      button.link { background: none; border: none; color: var(--muted); font-weight: normal; text-decoration: underline; justify-self: start; padding: 0; }
      code { font-size: 1.05rem; word-break: break-all; }
      .secret { font-size: 1.2rem; letter-spacing: 0.05em; }
      ol.codes { margin: 0; padding-left: 1.5rem; columns: 2; font-family: monospace; font-size: 1.05rem; }
    `,
  ];

  private signedIn(user: Principal) {
    this.dispatchEvent(new CustomEvent('logged-in', { detail: user, bubbles: true, composed: true }));
  }

  /** Back to the password, saying why. */
  private restart(why: string) {
    this.step = 'password';
    this.mfaToken = '';
    this.setup = null;
    this.error = why;
  }

  /** Run a server call with the busy flag, turning its refusal into the message shown. */
  private async run(call: () => Promise<void>) {
    this.busy = true;
    this.error = '';
    try {
      await call();
    } catch (err) {
      if (!(err instanceof ApiError)) this.error = 'cannot reach the server';
      else if (this.step !== 'password' && err.code === 'ERR_UNAUTHENTICATED') this.restart('This sign-in has expired: sign in again.');
      else if (err.code === 'ERR_BAD_CODE' && (err.details as { mfaTokenSpent?: boolean } | undefined)?.mfaTokenSpent) this.restart('Too many wrong codes: sign in again.');
      else this.error = err.message;
    } finally {
      this.busy = false;
    }
  }

  private submitPassword(e: SubmitEvent) {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    return this.run(async () => {
      const r = await this.auth.login(String(data.get('email')), String(data.get('password')));
      if (r.kind === 'done') return this.signedIn(r.user);
      this.mfaToken = r.mfaToken;
      if (r.kind === 'mfa') {
        this.step = 'code';
        return;
      }
      this.setup = await this.auth.setupMfa(r.mfaToken);
      this.step = 'enrol';
    });
  }

  private submitCode(e: SubmitEvent) {
    e.preventDefault();
    const code = String(new FormData(e.target as HTMLFormElement).get('code')).trim();
    return this.run(async () => {
      if (this.step === 'code') return this.signedIn(await this.auth.verifyMfa(this.mfaToken, code));
      const r = await this.auth.enableMfa(this.mfaToken, code);
      this.user = r.user;
      this.recoveryCodes = r.recoveryCodes;
      this.step = 'codes';
    });
  }

  private finish(e: SubmitEvent) {
    e.preventDefault();
    if (this.user) this.signedIn(this.user);
  }

  override updated(changed: Map<string, unknown>) {
    // Each step starts in its first field.
    if (changed.has('step')) this.renderRoot.querySelector<HTMLInputElement>('input')?.focus();
  }

  private errorLine(): TemplateResult | string {
    return this.error ? html`<p class="error" role="alert">${this.error}</p>` : '';
  }

  private codeField(label: string): TemplateResult {
    return html`<label>${label} <input name="code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required maxlength="64" /></label>`;
  }

  override render() {
    if (this.step === 'code') {
      return html`<form @submit=${this.submitCode} aria-labelledby="title">
        <h1 id="title">Two-step sign-in</h1>
        <p>Enter the 6-digit code from your authenticator app, or one of your recovery codes.</p>
        ${this.codeField('Code')} ${this.errorLine()}
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Checking…' : 'Verify'}</button>
        <button type="button" class="link" @click=${() => this.restart('')}>Start over</button>
      </form>`;
    }
    if (this.step === 'enrol' && this.setup) {
      return html`<form @submit=${this.submitCode} aria-labelledby="title">
        <h1 id="title">Set up two-step sign-in</h1>
        <p>Your role requires a second step at sign-in. Add this account to an authenticator app (for example on your phone): enter the key, or open the link on the device with the app.</p>
        <p>Key: <code class="secret" aria-label="Secret key">${groupSecret(this.setup.secret)}</code></p>
        <p>Link: <code class="uri" aria-label="otpauth link"><a href=${this.setup.otpauthUri}>${this.setup.otpauthUri}</a></code></p>
        ${this.codeField('Code from the app')} ${this.errorLine()}
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Checking…' : 'Turn on and sign in'}</button>
        <button type="button" class="link" @click=${() => this.restart('')}>Start over</button>
      </form>`;
    }
    if (this.step === 'codes') {
      return html`<form @submit=${this.finish} aria-labelledby="title">
        <h1 id="title">Save your recovery codes</h1>
        <p>If you lose the device with your authenticator, each of these codes signs you in once. They are shown only now: print them or keep them somewhere safe.</p>
        <ol class="codes" aria-label="Recovery codes">
          ${this.recoveryCodes.map((c) => html`<li>${c}</li>`)}
        </ol>
        <button type="submit">I have saved them — continue</button>
      </form>`;
    }
    return html`<form @submit=${this.submitPassword} aria-labelledby="title">
      <h1 id="title">WardPulse</h1>
      <label>E-mail <input name="email" type="email" autocomplete="username" required autofocus /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      ${this.errorLine()}
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
