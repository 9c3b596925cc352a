// Everything the patient panel shows, kept current: the patient record (limits, devices), the
// live view from the store, the chart series of the selected range (history from the REST API,
// then live readings appended once per frame), the recent alerts and lab results. Subscribes to the
// patient's room while its host is connected (LiveSubscriptionController); back-fills the range
// after a reconnect; slides the window on a ClockController when nothing arrives.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { api, ApiError, session } from '../api.ts';
import { store } from '../context.ts';
import { ClockController } from './clock-controller.ts';
import { LiveSubscriptionController, type LiveSubscriptionContext } from './live-subscription-controller.ts';
import type { LiveClient } from '../realtime.ts';
import type { PatientView } from '../store.ts';
import { RANGES, alertsPath, rangeWindow, scoresPath, vitalsPath, type RangeKey, type RangeWindow } from '../logic/panel-range.ts';
import {
  CHART_VITALS,
  appendAll,
  appendLive,
  emptySeries,
  seriesFromBuckets,
  seriesFromRaw,
  seriesFromScores,
  trimBefore,
  type BucketRow,
  type ChartVital,
  type RawRow,
  type ScoreRow,
  type Series,
} from '../logic/panel-series.ts';
import type { AlertEvent, Bound, LabOrder } from '../../../server/domain/index.ts';
import { readsLabOrders } from '../logic/lab-results.ts';

export interface PatientRecord {
  id: string;
  name: string;
  ward: string;
  bed: string | null;
  archivedAt?: string | null;
  effectiveLimits: Partial<Record<ChartVital, Bound>>;
  devices?: { id: string; status: string }[];
}

export type RecentAlert = Pick<AlertEvent, 'id' | 'kind' | 'priority' | 'state' | 'message' | 'ts' | 'endedAt'>;

type Host = ReactiveControllerHost & HTMLElement;

function emptyVitals(): Record<ChartVital, Series> {
  return Object.fromEntries(CHART_VITALS.map((k) => [k, emptySeries()])) as Record<ChartVital, Series>;
}

function message(err: unknown): string {
  return err instanceof ApiError || err instanceof Error ? err.message : String(err);
}

export class PatientDataController implements ReactiveController {
  patientId: string | null = null;
  range: RangeKey = '5m';
  window: RangeWindow = rangeWindow('5m', Date.now());
  record: PatientRecord | null = null;
  recordError = '';
  view: PatientView | null = null;
  vitals: Record<ChartVital, Series> = emptyVitals();
  scores: Series = emptySeries();
  /** Bumped whenever a series changed in place. */
  rev = 0;
  loading = false;
  historyError = '';
  truncated = false;
  recentAlerts: RecentAlert[] = [];
  /** The patient's recent lab orders, newest first (for a role that may read them). */
  labOrders: LabOrder[] = [];
  labError = '';
  liveError = '';

  private generation = 0;
  private alertTimer: number | undefined;
  /** The open alerts last seen; null until the first view (a patient without alerts is '', not "unseen"). */
  private alertSignature: string | null = null;
  private lastAdvance = 0;
  private readonly clock: ClockController;
  private readonly live: LiveSubscriptionController;

  constructor(private readonly host: Host) {
    host.addController(this);
    this.clock = new ClockController(host, {
      update: false,
      // Keep the window sliding when nothing arrives (no signal): old points must leave.
      tick: (now) => {
        if (this.patientId && now - this.lastAdvance > 900) this.advance();
      },
    });
    this.live = new LiveSubscriptionController(host, { key: () => this.patientId, subscribe: (ctx) => this.follow(ctx) });
  }

  hostDisconnected(): void {
    this.stopLoads();
  }

  /** Show another patient (or the first one); the subscription follows in the host's update. */
  setPatient(id: string): void {
    if (id === this.patientId) return;
    this.stopLoads();
    this.patientId = id;
    this.record = null;
    this.recordError = '';
    this.view = null;
    this.recentAlerts = [];
    this.labOrders = [];
    this.labError = '';
    this.alertSignature = null;
    this.host.requestUpdate();
  }

  setRange(range: RangeKey): void {
    if (range === this.range) return;
    this.range = range;
    this.vitals = emptyVitals();
    this.scores = emptySeries();
    this.advance();
    void this.loadHistory();
  }

  /** The patient's room, and its data through the REST API: on open, and again after a reconnect. */
  private follow({ client, key: id, opened, since }: LiveSubscriptionContext<LiveClient>): () => void {
    const off = store.subscribe((changed) => {
      if (changed.has(id)) this.onStore();
    });
    client
      .subscribe({ patientId: id })
      .then(() => {
        if (id !== this.patientId) return;
        this.liveError = '';
        this.onStore();
      })
      .catch((err: unknown) => {
        if (id !== this.patientId) return;
        this.liveError = message(err);
        this.host.requestUpdate();
      });
    if (opened) {
      this.view = store.patients.get(id) ?? null;
      void this.loadRecord();
    }
    // After a reconnect the store gets a fresh snapshot; the charts need what happened while we were away.
    if (opened || since !== null) {
      void this.loadHistory();
      void this.loadRecentAlerts();
      void this.loadLabOrders();
    }
    return () => {
      off();
      client.unsubscribe({ patientId: id });
    };
  }

  /** Answers still on their way are for a patient (or a page) no longer shown. */
  private stopLoads(): void {
    clearTimeout(this.alertTimer);
    this.generation++;
  }

  /** Called at most once per frame: the store batches its notifications. */
  private onStore(): void {
    const view = this.patientId ? store.patients.get(this.patientId) : undefined;
    if (!view) return;
    this.view = view;
    this.appendLive(view);
    const signature = view.alerts.map((a) => `${a.id}:${a.state}:${a.updatedAt}`).sort().join(',');
    if (signature !== this.alertSignature) {
      const first = this.alertSignature === null;
      this.alertSignature = signature;
      // Alerts reach the database through a batch writer: ask a moment later.
      if (!first) {
        clearTimeout(this.alertTimer);
        // A critical lab result arrives as an alarm: its results are in by then.
        this.alertTimer = window.setTimeout(() => {
          void this.loadRecentAlerts();
          void this.loadLabOrders();
        }, 2000);
      }
    }
    this.advance();
  }

  private appendLive(view: PatientView): void {
    // While a range loads, its series are about to be replaced; the store keeps the last ten
    // minutes, so nothing is lost: the load ends by appending what came meanwhile.
    if (this.loading) return;
    const bucketMs = RANGES[this.range].bucketMs;
    for (const k of CHART_VITALS) {
      const s = this.vitals[k];
      appendAll(s, view.recent[k] ?? [], bucketMs);
      const stamped = view.values[k];
      if (stamped && typeof stamped.value === 'number') appendLive(s, stamped.ts, stamped.value, bucketMs, stamped.source === 'manual');
    }
    if (view.score) appendLive(this.scores, view.score.ts, view.score.news2.total, null);
  }

  /** Slide the window to now and drop what fell out of it. */
  private advance(): void {
    this.lastAdvance = Date.now();
    this.window = rangeWindow(this.range, this.lastAdvance);
    for (const k of CHART_VITALS) trimBefore(this.vitals[k].points, this.window.from);
    trimBefore(this.scores.points, this.window.from);
    this.rev++;
    this.host.requestUpdate();
  }

  private async loadRecord(): Promise<void> {
    const id = this.patientId!;
    try {
      const record = await api<PatientRecord>('GET', `/api/patients/${encodeURIComponent(id)}`);
      if (id !== this.patientId) return;
      this.record = record;
      this.recordError = '';
    } catch (err) {
      if (id !== this.patientId) return;
      this.recordError = err instanceof ApiError && err.code === 'ERR_NOT_FOUND' ? 'Patient not found.' : message(err);
    }
    this.host.requestUpdate();
  }

  /** (Re)load the current range: on open, on a range change and after a reconnect (back-fill). */
  async loadHistory(): Promise<void> {
    const id = this.patientId;
    if (!id) return;
    const generation = ++this.generation;
    const range = this.range;
    const now = Date.now();
    this.loading = true;
    this.host.requestUpdate();
    try {
      const [vitals, scores] = await Promise.all([
        api<{ items: (RawRow & BucketRow)[]; truncated?: boolean }>('GET', vitalsPath(id, range, now)),
        api<{ items: ScoreRow[] }>('GET', scoresPath(id, range, now)),
      ]);
      if (generation !== this.generation) return;
      this.vitals = RANGES[range].bucket ? seriesFromBuckets(vitals.items, now) : seriesFromRaw(vitals.items);
      this.scores = seriesFromScores(scores.items);
      this.truncated = vitals.truncated === true;
      this.historyError = '';
    } catch (err) {
      if (generation !== this.generation) return;
      this.historyError = `History could not be loaded: ${message(err)}`;
    }
    this.loading = false;
    const view = store.patients.get(id);
    if (view) this.appendLive(view);
    this.advance();
  }

  /** The last orders with their results: on open, after a reconnect and when the alarms change. */
  private async loadLabOrders(): Promise<void> {
    const id = this.patientId;
    if (!id || !readsLabOrders(session.user?.role)) return;
    try {
      const r = await api<{ items: LabOrder[] }>('GET', `/api/lab-orders?patientId=${encodeURIComponent(id)}&limit=20`);
      if (id !== this.patientId) return;
      this.labOrders = r.items;
      this.labError = '';
    } catch (err) {
      if (id !== this.patientId) return;
      this.labError = `Lab results could not be loaded: ${message(err)}`;
    }
    this.host.requestUpdate();
  }

  private async loadRecentAlerts(): Promise<void> {
    const id = this.patientId;
    if (!id) return;
    try {
      const r = await api<{ items: RecentAlert[] }>('GET', alertsPath(id, 20));
      if (id !== this.patientId) return;
      this.recentAlerts = r.items;
      this.host.requestUpdate();
    } catch {
      /* the active alerts still come live; the history list keeps what it had */
    }
  }
}
