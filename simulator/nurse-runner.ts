// The simulated nurse at work: logs in, looks at every bed once a second, and records the full
// sets simulator/nurse.ts plans through POST /api/patients/{id}/observations. Refusals are logged
// and handled per bed; nothing here throws into the fleet once started.
import type { Fleet } from './fleet.ts';
import * as plan from './nurse.ts';
import type { PatientState } from './physiology.ts';
import { ApiError } from './provision.ts';
import { createRng, deriveSeed, type Rng } from './rng.ts';

export interface NurseBed {
  /** Index in the fleet plan: picks the bed's patient and the nurse's random stream for it. */
  index: number;
  patientId: string;
  /** Label for logs, e.g. A-03. */
  bed: string;
  /** Scenario name, for logs. */
  scenario: string;
  /** The simulated patient now (the same one the bed's monitor measures). */
  state(): PatientState;
}

export interface NurseOptions {
  /** REST API base, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** A nurse's (or doctor's) login; kept to log in again when the token expires. */
  email: string;
  password: string;
  beds: readonly NurseBed[];
  /** Seed of the nurse's measurement error (default 1). */
  seed?: number;
  /** The first round starts this long (wall ms) after the login; default NURSE.roundDelayMs (3 s). */
  roundDelayMs?: number;
  /** How often (wall ms) she looks at the beds; default 1000. */
  checkMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
  onEvent?: (event: NurseEvent) => void;
}

export type NurseEvent =
  | {
      type: 'recorded';
      bed: string;
      patientId: string;
      scenario: string;
      reason: plan.ObservationReason;
      body: plan.ObservationBody;
      total: number;
      band: string;
      /** A readable line (simulator/nurse.ts describeSet). */
      line: string;
    }
  /** Every bed has been seen once (charted, or given up on). */
  | { type: 'round-done'; beds: number; recorded: number }
  | { type: 'refused'; bed: string; patientId: string; status: number; code: string; message: string; action: plan.FailureAction }
  | { type: 'stopped'; reason: string };

export interface NurseStats {
  beds: number;
  /** Full sets the server accepted. */
  recorded: number;
  /** Attempts refused or failed. */
  refused: number;
  /** False once stopped (by stop() or a 403). */
  active: boolean;
}

export interface Nurse {
  stats(): NurseStats;
  /** The current plan per bed (same order as `beds`). */
  charts(): readonly plan.BedChart[];
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 10_000;

/** The beds of a running fleet that belong to a patient (devices from a fleet file; anonymous ones do not). */
export function nurseBeds(fleet: Fleet): NurseBed[] {
  return fleet.devices.flatMap((d) =>
    d.patientId === undefined
      ? []
      : [{ index: d.index, patientId: d.patientId, bed: d.bed ?? d.deviceId, scenario: d.scenario.name, state: () => fleet.patientState(d.index) }],
  );
}

interface Answer {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

function errorOf(answer: Answer): { code: string; message: string } {
  const body = answer.body as { error?: { code?: unknown; message?: unknown } } | null;
  const code = typeof body?.error?.code === 'string' ? body.error.code : answer.status === 0 ? 'NETWORK' : 'HTTP_ERROR';
  const message = typeof body?.error?.message === 'string' ? body.error.message : typeof answer.body === 'string' ? answer.body : '';
  return { code, message };
}

/**
 * Log in and start the rounds. Rejects (ApiError) when the login fails; once started, every
 * failure is reported as an event and handled per bed.
 */
export async function startNurse(options: NurseOptions): Promise<Nurse> {
  const fetchFn = options.fetch ?? fetch;
  const clock = options.now ?? Date.now;
  const seed = options.seed ?? 1;
  const beds = options.beds;
  const emit = (event: NurseEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A logging failure must not stop the rounds.
    }
  };
  const controller = new AbortController();

  async function request(method: string, path: string, body: unknown, token: string | null): Promise<Answer> {
    try {
      const res = await fetchFn(new URL(path, options.baseUrl), {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.any([controller.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // keep the text
      }
      const retryAfter = Number(res.headers.get('retry-after'));
      return { status: res.status, body: parsed, ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      return { status: 0, body: `cannot reach ${options.baseUrl} (${cause})` };
    }
  }

  async function login(): Promise<string> {
    const answer = await request('POST', '/api/auth/login', { email: options.email, password: options.password }, null);
    const token = (answer.body as { token?: unknown } | null)?.token;
    if (answer.status !== 200 || typeof token !== 'string') {
      const { code, message } = errorOf(answer);
      throw new ApiError(answer.status, code, message || 'login failed', 'POST /api/auth/login');
    }
    return token;
  }

  let token = await login();
  let charts: plan.BedChart[] = plan.firstRound(beds.length, clock(), options.roundDelayMs);
  const rngs: Rng[] = beds.map((b) => createRng(deriveSeed(seed, 'nurse', b.index)));
  const stats: NurseStats = { beds: beds.length, recorded: 0, refused: 0, active: true };
  let roundReported = beds.length === 0;
  let stopped = false;
  let running: Promise<void> | null = null;

  const post = (patientId: string, body: plan.ObservationBody) =>
    request('POST', `/api/patients/${encodeURIComponent(patientId)}/observations`, body, token);

  function halt(reason: string): void {
    if (stopped) return;
    stopped = true;
    stats.active = false;
    clearInterval(timer);
    controller.abort();
    emit({ type: 'stopped', reason });
  }

  async function observeBed(i: number, now: number, set: plan.FullSet): Promise<void> {
    const bed = beds[i]!;
    const state = bed.state();
    const reason = charts[i]!.reason;
    const body = plan.observationBody(now, set);
    let answer = await post(bed.patientId, body);
    if (stopped) return;
    if (answer.status === 401) {
      // The token expired (or the server restarted with a new secret): log in again, once.
      try {
        token = await login();
        answer = await post(bed.patientId, body);
      } catch (err) {
        answer = { status: 401, body: { error: { code: 'AUTH', message: (err as Error).message } } };
      }
      if (stopped) return;
    }
    if (answer.status === 200 || answer.status === 201) {
      charts[i] = plan.charted(charts[i]!, now, set, state.speed);
      stats.recorded++;
      const score = plan.scoreSet(set);
      emit({
        type: 'recorded',
        bed: bed.bed,
        patientId: bed.patientId,
        scenario: bed.scenario,
        reason,
        body,
        total: score.total,
        band: score.band,
        line: plan.describeSet(bed.bed, bed.scenario, reason, set, state.speed),
      });
      return;
    }
    stats.refused++;
    const { code, message } = errorOf(answer);
    // A 401 that survived a fresh login cannot be fixed by retrying: stop like a 403.
    const action = answer.status === 401 ? 'stop' : plan.failureAction(answer.status);
    emit({ type: 'refused', bed: bed.bed, patientId: bed.patientId, status: answer.status, code, message, action });
    if (action === 'stop') {
      halt(`${options.email} may not record observations (${answer.status} ${code}${message ? `: ${message}` : ''}); a nurse or doctor account is needed`);
      return;
    }
    charts[i] = plan.afterFailure(charts[i]!, now, action, state.speed, answer.retryAfterMs);
  }

  async function check(): Promise<void> {
    for (let i = 0; i < beds.length && !stopped; i++) {
      const now = clock();
      const bed = beds[i]!;
      const { chart, set } = plan.lookAt(charts[i]!, bed.state(), now, rngs[i]!);
      charts[i] = chart;
      if (set) await observeBed(i, now, set);
    }
    if (!roundReported && !stopped && charts.every((c) => !c.active || c.last !== null)) {
      roundReported = true;
      emit({ type: 'round-done', beds: beds.length, recorded: charts.filter((c) => c.last !== null).length });
    }
  }

  const timer = setInterval(() => {
    if (running || stopped) return; // one bed at a time: a slow server delays the round, it does not pile up
    running = check()
      .catch((err: unknown) => emit({ type: 'refused', bed: '-', patientId: '-', status: 0, code: 'INTERNAL', message: String(err), action: 'retry' }))
      .finally(() => {
        running = null;
      });
  }, options.checkMs ?? 1000);

  return {
    stats: () => ({ ...stats }),
    charts: () => charts,
    async stop() {
      halt('stopped');
      await running;
    },
  };
}

/** Why there are no nurse assessments, and what that means for the score. */
export function noNurseNote(why: string, deviceAssessments: boolean): string {
  return deviceAssessments
    ? `${why}: no nurse assessments; the devices send o2 and acvpu themselves (--device-assessments)`
    : `${why}: no nurse assessments are sent, so NEWS2 scores will be partial (missing acvpu and o2)`;
}

/**
 * Log lines for nurse events: every set except the first round's (summed up once), the first few
 * refusals (the summary counts the rest), and why she stopped.
 */
export function nurseLogger(log: (line: string) => void, options: { quiet?: boolean; maxRefusals?: number } = {}): (event: NurseEvent) => void {
  let refusals = 0;
  const max = options.maxRefusals ?? 5;
  return (event) => {
    switch (event.type) {
      case 'recorded':
        if (event.reason !== 'round' && !options.quiet) log(event.line);
        break;
      case 'round-done':
        log(`nurse: first round done, ${event.recorded} of ${event.beds} beds charted (all seven NEWS2 parameters)`);
        break;
      case 'refused':
        refusals++;
        if (refusals <= max) {
          const what = { retry: 'will retry', relogin: 'logging in again', skip: 'skipped until the next interval', drop: 'no more sets for this bed', stop: 'nurse stops' }[event.action];
          log(`nurse: ${event.bed}: ${event.status === 0 ? 'failed' : `refused ${event.status}`} ${event.code}${event.message ? `: ${event.message}` : ''} (${what})`);
          if (refusals === max) log('nurse: further refusals are only counted');
        }
        break;
      case 'stopped':
        if (event.reason !== 'stopped') log(`nurse: stopped: ${event.reason}`);
        break;
    }
  };
}
