// The application shell: login, role-aware navigation, routing, and the banner that says when
// the dashboard's own connection is down (so nobody trusts a frozen screen).
import { LitElement, css, html, nothing } from 'lit';
import { session, logout, api, SESSION_EXPIRED } from '../api.ts';
import { closeLive, connectionState, liveClient, navigate, onConnectionState } from '../context.ts';
import type { ConnectionState } from '../realtime.ts';
import { PERMISSIONS, type Role } from '../../../server/domain/index.ts';
import { theme } from '../styles.ts';
import './wp-login.ts';
import './wp-ward-board.ts';
import './wp-alarm-list.ts';
import './wp-patient-panel.ts';
import './wp-queue-display.ts';
import './wp-my-vitals.ts';
import './wp-analytics.ts';

type Route = { name: 'login' } | { name: 'home' } | { name: 'ward'; ward: string } | { name: 'alarms'; ward: string } | { name: 'patient'; id: string } | { name: 'queue'; doctorId: string } | { name: 'my-vitals' } | { name: 'analytics' };

export function parseRoute(path: string): Route {
  let m = /^\/ward\/([^/]+)\/alarms\/?$/.exec(path);
  if (m) return { name: 'alarms', ward: decodeURIComponent(m[1]!) };
  m = /^\/ward\/([^/]+)\/?$/.exec(path);
  if (m) return { name: 'ward', ward: decodeURIComponent(m[1]!) };
  m = /^\/patient\/([0-9a-f-]{36})\/?$/.exec(path);
  if (m) return { name: 'patient', id: m[1]! };
  // /queue/{doctorId} or /queue/{room}: a waiting-room display may be set up by room number.
  m = /^\/queue\/([^/]+)\/?$/.exec(path);
  if (m) return { name: 'queue', doctorId: decodeURIComponent(m[1]!) };
  if (/^\/my-vitals\/?$/.test(path)) return { name: 'my-vitals' };
  if (/^\/analytics\/?$/.test(path)) return { name: 'analytics' };
  if (path === '/login') return { name: 'login' };
  return { name: 'home' };
}

const CLINICAL = new Set(['admin', 'doctor', 'nurse']);
/** Who sees the analytics page: the roles the API lets read it (`analytics:read`). */
export const canSeeAnalytics = (role: string | undefined) => !!role && (PERMISSIONS['analytics:read'] as readonly Role[]).includes(role as Role);

export class WpApp extends LitElement {
  static override properties = { route: { state: true }, conn: { state: true }, wards: { state: true } };
  declare route: Route;
  declare conn: ConnectionState;
  declare wards: { ward: string; patients: number }[];
  private offConn: (() => void) | null = null;
  private kiosk = new URLSearchParams(location.search).get('kiosk') === '1';

  constructor() {
    super();
    this.route = parseRoute(location.pathname);
    this.conn = 'connecting';
    this.wards = [];
  }

  static override styles = [
    theme,
    css`
      :host { display: flex; flex-direction: column; height: 100vh; }
      :host([kiosk]) { cursor: none; }
      nav { display: flex; gap: 1rem; align-items: center; padding: 0.5rem 1rem; background: var(--panel); border-bottom: 1px solid var(--line); }
      nav .brand { font-weight: 800; margin-right: 1rem; color: var(--text); text-decoration: none; }
      nav .spacer { flex: 1; }
      nav .who { color: var(--muted); }
      main { flex: 1; min-height: 0; overflow: auto; }
      main.board { overflow: hidden; }
      .banner { background: #b71c1c; color: #fff; font-weight: 700; padding: 0.6rem 1rem; font-size: 1.2rem; }
      .home { padding: 1.5rem; }
      .home ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
      .home a { display: block; padding: 1rem 1.5rem; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; font-size: 1.3rem; text-decoration: none; }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.kiosk) this.setAttribute('kiosk', '');
    window.addEventListener('popstate', this.onPop);
    window.addEventListener(SESSION_EXPIRED, this.onExpired);
    this.addEventListener('click', this.onClick);
    this.addEventListener('logged-in', () => this.afterLogin());
    if (session.token) this.afterLogin(false);
    else this.route = { name: 'login' };
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.onPop);
    window.removeEventListener(SESSION_EXPIRED, this.onExpired);
    this.offConn?.();
  }

  private onPop = () => {
    this.route = session.token ? parseRoute(location.pathname) : { name: 'login' };
    if (this.route.name === 'home') void this.loadWards();
  };

  private onExpired = () => this.doLogout();

  /** Same-origin links navigate inside the app. */
  private onClick = (e: MouseEvent) => {
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || a.origin !== location.origin || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  };

  private afterLogin(fromForm = true): void {
    this.offConn?.();
    liveClient();
    this.conn = connectionState();
    this.offConn = onConnectionState((s) => {
      this.conn = s;
      if (s === 'unauthorized') this.doLogout();
    });
    const target = parseRoute(location.pathname);
    this.route = target.name === 'login' ? { name: 'home' } : target;
    if (fromForm && location.pathname === '/login') history.replaceState(null, '', '/');
    if (this.route.name === 'home') void this.loadWards();
  }

  private doLogout(): void {
    closeLive();
    logout();
    this.offConn?.();
    this.route = { name: 'login' };
  }

  private async loadWards(): Promise<void> {
    try {
      this.wards = (await api<{ items: { ward: string; patients: number }[] }>('GET', '/api/wards')).items;
    } catch {
      this.wards = [];
    }
  }

  private nav() {
    if (this.kiosk || this.route.name === 'queue') return nothing;
    const user = session.user;
    const r = this.route;
    const ward = r.name === 'ward' || r.name === 'alarms' ? r.ward : null;
    return html`<nav aria-label="Main">
      <a class="brand" href="/">WardPulse</a>
      ${ward ? html`<a href="/ward/${encodeURIComponent(ward)}">Ward ${ward}</a>` : nothing}
      ${ward && user && CLINICAL.has(user.role) ? html`<a href="/ward/${encodeURIComponent(ward)}/alarms">Alarms</a>` : nothing}
      ${user?.role === 'patient' ? html`<a href="/my-vitals">My vitals</a>` : nothing}
      ${canSeeAnalytics(user?.role) ? html`<a href="/analytics">Analytics</a>` : nothing}
      <span class="spacer"></span>
      <span class="who">${user?.name} (${user?.role})</span>
      <button @click=${() => this.doLogout()}>Log out</button>
    </nav>`;
  }

  private banner() {
    if (this.conn === 'live' || this.conn === 'connecting') return nothing;
    return html`<div class="banner" role="alert">Connection to the server lost — reconnecting. Values shown may be out of date.</div>`;
  }

  override render() {
    const r = this.route;
    if (r.name === 'login') return html`<wp-login></wp-login>`;
    let body;
    if (r.name === 'ward') body = html`<wp-ward-board .ward=${r.ward} ?kiosk=${this.kiosk}></wp-ward-board>`;
    else if (r.name === 'alarms') body = html`<wp-alarm-list .ward=${r.ward}></wp-alarm-list>`;
    else if (r.name === 'queue') return html`<wp-queue-display .doctorId=${r.doctorId}></wp-queue-display>`;
    else if (r.name === 'patient') body = html`<wp-patient-panel .patientId=${r.id}></wp-patient-panel>`;
    else if (r.name === 'analytics' && canSeeAnalytics(session.user?.role)) body = html`<wp-analytics></wp-analytics>`;
    // A patient account has no wards: its home is its own vitals.
    else if (r.name === 'my-vitals' || session.user?.role === 'patient') body = html`<wp-my-vitals></wp-my-vitals>`;
    else
      body = html`<section class="home">
        <h1>Wards</h1>
        ${this.wards.length === 0
          ? html`<p>No wards yet: create patients through the API or run <code>npm run demo</code>.</p>`
          : html`<ul>
              ${this.wards.map((w) => html`<li><a href="/ward/${encodeURIComponent(w.ward)}">Ward ${w.ward} · ${w.patients} beds</a></li>`)}
            </ul>`}
      </section>`;
    return html`${this.nav()}${this.banner()}<main class=${r.name === 'ward' ? 'board' : ''}>${body}</main>`;
  }
}
customElements.define('wp-app', WpApp);
declare global {
  interface HTMLElementTagNameMap {
    'wp-app': WpApp;
  }
}
