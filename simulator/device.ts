// One simulated bedside device: an MQTT client that publishes a reading on its own tick grid.
import mqtt, { type MqttClient } from 'mqtt';
import { step, type PatientState } from './physiology.ts';
import type { Rng } from './rng.ts';
import { buildPayload, errorsTopic, nextTickTime, statusTopic, vitalsTopic, type CategoricalMemo } from './telemetry.ts';

export interface DeviceOptions {
  deviceId: string;
  /** Device secret; omitted for a server in anonymous mode (no username or password sent). */
  secret?: string;
  /** mqtt://host:1883 or ws://host:8080/mqtt */
  mqttUrl: string;
  qos: 0 | 1;
  periodMs: number;
  /** Epoch ms of the first tick; later ticks fall on anchorMs + k·periodMs. */
  anchorMs: number;
  patient: PatientState;
  rng: Rng;
  /** Send o2 and ACVPU from the scenario (a monitor that reports them); default numeric vitals only. */
  assessments?: boolean;
  /** Wait before reconnecting after a dropped or failed connection. */
  reconnectMs?: number;
  onEvent?: (event: DeviceEvent) => void;
  /** Clock for readings and ticks (epoch ms). */
  now?: () => number;
}

export type DeviceEvent =
  | { type: 'connected'; deviceId: string }
  | { type: 'disconnected'; deviceId: string }
  | { type: 'connect-failed'; deviceId: string; message: string; fatal: boolean }
  | { type: 'server-error'; deviceId: string; reason: string }
  | { type: 'offline-start' | 'offline-end'; deviceId: string };

export interface DeviceStats {
  deviceId: string;
  connected: boolean;
  /** Telemetry messages handed to the socket (qos 0) or acknowledged (qos 1). */
  sent: number;
  /** Messages received on devices/{id}/errors. */
  errorsReceived: number;
  lastServerError?: string;
  /** Connection attempts that ended without a session. */
  connectFailures: number;
  /** The broker refused the credentials: the device has given up. */
  refused: boolean;
  /** In a simulated network outage (offline scenario). */
  simulatedOffline: boolean;
}

export interface Device {
  readonly deviceId: string;
  start(): void;
  /** Publish `offline` (retained), disconnect cleanly and stop ticking. */
  stop(): Promise<void>;
  stats(): DeviceStats;
  /** The simulated patient as of the latest reading (the nurse observes the same patient). */
  patient(): PatientState;
}

// MQTT 3.1.1 CONNACK return codes after which retrying cannot help.
const FATAL_CONNACK = new Set([2, 4, 5]); // identifier rejected, bad user name or password, not authorised
const STOP_TIMEOUT_MS = 3000;

export function createDevice(options: DeviceOptions): Device {
  const { deviceId, qos, periodMs } = options;
  const clock = options.now ?? Date.now;
  const reconnectMs = options.reconnectMs ?? 2000;
  const emit = (event: DeviceEvent) => options.onEvent?.(event);

  let client: MqttClient | null = null;
  let tickTimer: NodeJS.Timeout | null = null;
  let dueMs: number | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let started = false;
  let stopped = false;
  let patient = options.patient;
  let seq = 0;
  let memo: CategoricalMemo | null = null;
  const stats: DeviceStats = {
    deviceId,
    connected: false,
    sent: 0,
    errorsReceived: 0,
    connectFailures: 0,
    refused: false,
    simulatedOffline: false,
  };

  function open(): void {
    const c = mqtt.connect(options.mqttUrl, {
      protocolVersion: 4,
      clientId: deviceId,
      ...(options.secret === undefined ? {} : { username: deviceId, password: options.secret }),
      clean: true,
      // Subscriptions are made afresh on every connect (clean session).
      resubscribe: false,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: reconnectMs,
      // Refusals are handled below: some are final, and mqtt.js would retry them forever.
      reconnectOnConnackError: false,
      // A reading that cannot be sent now is stale by the time the link is back: drop it.
      queueQoSZero: false,
      will: { topic: statusTopic(deviceId), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    client = c;
    let sessionUp = false;

    c.on('connect', () => {
      sessionUp = true;
      stats.connected = true;
      memo = null; // the server may have restarted: with assessments, send o2 and ACVPU again in the first reading
      // Readings are small and latency matters more than packet count.
      (c.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
      c.publish(statusTopic(deviceId), 'online', { qos: 1, retain: true });
      c.subscribe(errorsTopic(deviceId), { qos: 0 });
      emit({ type: 'connected', deviceId });
    });
    c.on('message', (topic, payload) => {
      if (topic !== errorsTopic(deviceId)) return;
      stats.errorsReceived++;
      stats.lastServerError = errorReason(payload);
      emit({ type: 'server-error', deviceId, reason: stats.lastServerError });
    });
    c.on('close', () => {
      if (client !== c) return;
      if (sessionUp) {
        stats.connected = false;
        emit({ type: 'disconnected', deviceId });
      } else if (!stopped) {
        stats.connectFailures++;
      }
      sessionUp = false;
    });
    c.on('error', (err: Error & { code?: string | number }) => {
      if (client !== c || stopped) return;
      if (typeof err.code === 'number') {
        // CONNACK refusal: mqtt.js has closed the connection and will not retry by itself.
        const fatal = FATAL_CONNACK.has(err.code);
        emit({ type: 'connect-failed', deviceId, message: err.message, fatal });
        if (fatal) {
          stats.refused = true;
          stats.connectFailures++;
          client = null;
          c.end(true);
        } else {
          retryTimer = setTimeout(() => {
            retryTimer = null;
            if (client === c && !stopped) reopen();
          }, reconnectMs);
        }
      } else {
        emit({ type: 'connect-failed', deviceId, message: err.message, fatal: false });
      }
    });
  }

  function reopen(): void {
    client?.end(true);
    client = null;
    open();
  }

  function tick(): void {
    tickTimer = null;
    if (stopped) return;
    const now = clock();
    const result = step(patient, now, options.rng);
    patient = result.state;

    if (result.offline !== stats.simulatedOffline && !stats.refused) {
      stats.simulatedOffline = result.offline;
      if (result.offline) {
        // Drop the link without DISCONNECT, as a lost network would: the broker publishes the will.
        const c = client;
        client = null;
        stats.connected = false;
        c?.end(true);
        emit({ type: 'offline-start', deviceId });
      } else {
        emit({ type: 'offline-end', deviceId });
        open();
      }
    }

    if (client?.connected) {
      const { payload, memo: nextMemo } = buildPayload(now, seq, result.vitals, memo, { assessments: options.assessments ?? false });
      memo = nextMemo;
      seq++;
      client.publish(vitalsTopic(deviceId), JSON.stringify(payload), { qos }, (err) => {
        if (!err) stats.sent++;
      });
    }
    schedule();
  }

  function schedule(): void {
    const now = clock();
    // Timers may fire a millisecond early; never schedule the same grid slot twice.
    dueMs = nextTickTime(options.anchorMs, periodMs, dueMs === null ? now : Math.max(now, dueMs));
    tickTimer = setTimeout(tick, Math.max(0, dueMs - now));
  }

  return {
    deviceId,
    start() {
      if (started) return;
      started = true;
      open();
      schedule();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (tickTimer) clearTimeout(tickTimer);
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = null;
      stats.connected = false;
      if (!c) return;
      if (!c.connected) {
        c.end(true);
        return;
      }
      // A clean DISCONNECT suppresses the will, so say goodbye on the status topic first.
      const goodbye = (async () => {
        await c.publishAsync(statusTopic(deviceId), 'offline', { qos: 1, retain: true });
        await c.endAsync();
      })();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS);
      });
      const outcome = await Promise.race([goodbye.then(() => 'ok' as const, () => 'failed' as const), timeout]);
      clearTimeout(timer);
      if (outcome !== 'ok') c.end(true);
    },
    stats: () => ({ ...stats }),
    patient: () => patient,
  };
}

function errorReason(payload: Buffer): string {
  const text = payload.toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'reason' in parsed && typeof parsed.reason === 'string') {
      return parsed.reason;
    }
  } catch {
    // Not JSON: report the raw text.
  }
  return text.slice(0, 200);
}
