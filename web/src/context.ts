// The dashboard's shared services: one live connection and one store per logged-in session.
import { LiveClient, type ConnectionState } from './realtime.ts';
import type { SubscribeRequest } from '../../server/domain/index.ts';
import { LiveStore } from './store.ts';
import { api, session } from './api.ts';

export const store = new LiveStore();

type StateListener = (s: ConnectionState) => void;
const stateListeners = new Set<StateListener>();
const reconnectListeners = new Set<(since: number) => void>();
const refusedListeners = new Set<(req: SubscribeRequest, message: string) => void>();
let live: LiveClient | null = null;
let state: ConnectionState = 'connecting';

export function connectionState(): ConnectionState {
  return state;
}
export function onConnectionState(fn: StateListener): () => void {
  stateListeners.add(fn);
  return () => stateListeners.delete(fn);
}
export function onReconnected(fn: (since: number) => void): () => void {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}

/** A subscription the server refused while (re)connecting, with its reason. */
export function onRefused(fn: (req: SubscribeRequest, message: string) => void): () => void {
  refusedListeners.add(fn);
  return () => refusedListeners.delete(fn);
}

export function liveClient(): LiveClient {
  if (!live) {
    const token = session.token;
    if (!token) throw new Error('not logged in');
    live = new LiveClient(token, {
      snapshot: (r) => store.applySnapshot(r),
      vitals: (b) => store.applyVitals(b),
      score: (e) => store.applyScore(e),
      alert: (e) => store.applyAlert(e),
      device: (e) => store.applyDevice(e),
      escalation: (e) => store.applyEscalation(e),
      state: (s) => {
        state = s;
        for (const fn of stateListeners) fn(s);
      },
      reconnected: (since) => {
        for (const fn of reconnectListeners) fn(since);
      },
      refused: (req, message) => {
        for (const fn of refusedListeners) fn(req, message);
      },
    });
  }
  return live;
}

export function closeLive(): void {
  live?.close();
  live = null;
  store.forget([...store.patients.keys()]);
}

/** Back-fill the recent buffers of these patients from the history API after a gap. */
export async function backfill(patientIds: string[], since: number): Promise<void> {
  const from = Math.max(since - 60_000, Date.now() - 10 * 60_000);
  await Promise.all(
    patientIds.map(async (id) => {
      try {
        const r = await api<{ items: { ts: string; values: Record<string, unknown> }[] }>('GET', `/api/patients/${id}/vitals?from=${from}&limit=5000`);
        store.applyHistory(id, r.items);
      } catch {
        /* the live stream goes on; a failed back-fill only leaves a gap in the sparkline */
      }
    }),
  );
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}
