// A ward of simulated devices: plans who gets which patient and scenario (pure), then runs them.
import { createDevice, type Device, type DeviceEvent, type DeviceStats } from './device.ts';
import { createPatient, createProfile, type PatientProfile, type PatientState } from './physiology.ts';
import { createRng, deriveSeed } from './rng.ts';
import { assignScenarios, scenarioForBed, type FleetScenarioName, type Scenario, type ScenarioName } from './scenarios.ts';
import { spreadOffsets } from './telemetry.ts';

export interface FleetDevice {
  deviceId: string;
  /** Absent when the server runs in anonymous mode. */
  secret?: string;
  bed?: string;
  /** The patient the device is assigned to (from the fleet file); the nurse charts for this patient. */
  patientId?: string;
}

export interface FleetOptions {
  /** mqtt://host:1883 or ws://host:8080/mqtt */
  mqttUrl: string;
  devices: readonly FleetDevice[];
  scenario?: FleetScenarioName;
  seed?: number;
  /** Readings per second per device; may be fractional. */
  rate?: number;
  /** Scenario time runs this many times faster than wall time. */
  speed?: number;
  /**
   * Scenario onset (scenario ms) for every non-stable bed, passed to createScenario(name, { onsetMs });
   * absent: each scenario's own onset, jittered per bed.
   */
  onsetMs?: number;
  qos?: 0 | 1;
  /**
   * Devices send o2 and ACVPU from the scenario (--device-assessments), as a monitor with an O2 flow
   * sensor might. Default off: numeric vitals only; a nurse charts oxygen and consciousness.
   */
  deviceAssessments?: boolean;
  /** Connections are opened evenly over this window so a big ward does not storm the broker. */
  connectWindowMs?: number;
  /** Minutes east of UTC for the circadian rhythm; default the host's zone. */
  utcOffsetMin?: number;
  onEvent?: (event: DeviceEvent) => void;
  now?: () => number;
}

export interface PlannedDevice extends FleetDevice {
  index: number;
  scenario: Scenario;
  profile: PatientProfile;
  /** Offset of this device's ticks within the publish period. */
  phaseMs: number;
  /** Seed of this device's reading stream. */
  seed: number;
}

export interface FleetStats {
  devices: number;
  connected: number;
  sent: number;
  errorsReceived: number;
  /** The most recent refusal the server published, prefixed with the device id. */
  lastServerError?: string;
  connectFailures: number;
  refused: number;
  simulatedOffline: number;
}

export interface Fleet {
  readonly devices: readonly PlannedDevice[];
  /** Epoch ms at which scenario time is 0 (the first readings). */
  readonly startMs: number;
  /** Scenario time runs this many times faster than wall time. */
  readonly speed: number;
  /** The simulated patient of plan entry `index`, as of its device's latest reading. */
  patientState(index: number): PatientState;
  stats(): FleetStats;
  perDevice(): DeviceStats[];
  /** Resolves true once every device that has not been refused is connected, false on timeout. */
  waitConnected(timeoutMs: number): Promise<boolean>;
  /** Disconnect every device cleanly; idempotent. */
  stop(): Promise<void>;
}

export const DEFAULTS = { scenario: 'mixed', seed: 1, rate: 1, speed: 1, qos: 0, connectWindowMs: 1000, deviceAssessments: false } as const;

/** Device ids for a server in anonymous mode: sim-0001, sim-0002, … */
export function anonymousDevices(count: number): FleetDevice[] {
  return Array.from({ length: count }, (_, i) => ({ deviceId: `sim-${String(i + 1).padStart(4, '0')}` }));
}

/** Who gets which patient, scenario and tick phase. Pure: the same seed gives the same plan. */
export function planFleet(
  devices: readonly FleetDevice[],
  scenario: FleetScenarioName,
  seed: number,
  periodMs: number,
  onsetMs?: number,
): PlannedDevice[] {
  const names: ScenarioName[] = assignScenarios(scenario, devices.length, createRng(deriveSeed(seed, 'mix')));
  const phases = spreadOffsets(devices.length, periodMs);
  return devices.map((device, index) => {
    const rng = createRng(deriveSeed(seed, 'patient', index));
    return {
      ...device,
      index,
      profile: createProfile(rng),
      scenario: scenarioForBed(names[index] ?? 'stable', rng, onsetMs),
      phaseMs: phases[index] ?? 0,
      seed: deriveSeed(seed, 'readings', index),
    };
  });
}

export function validateFleetOptions(options: FleetOptions): void {
  const rate = options.rate ?? DEFAULTS.rate;
  const speed = options.speed ?? DEFAULTS.speed;
  if (options.devices.length === 0) throw new RangeError('a fleet needs at least one device');
  if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate must be a positive number, got ${rate}`);
  if (!(speed > 0 && Number.isFinite(speed))) throw new RangeError(`speed must be a positive number, got ${speed}`);
  if (options.onsetMs !== undefined && !(options.onsetMs >= 0 && Number.isFinite(options.onsetMs))) {
    throw new RangeError(`onsetMs must be a non-negative number, got ${options.onsetMs}`);
  }
  const ids = new Set(options.devices.map((d) => d.deviceId));
  if (ids.size !== options.devices.length) throw new RangeError('device ids must be unique');
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  validateFleetOptions(options);
  const clock = options.now ?? Date.now;
  const seed = options.seed ?? DEFAULTS.seed;
  const periodMs = 1000 / (options.rate ?? DEFAULTS.rate);
  const connectWindowMs = options.connectWindowMs ?? DEFAULTS.connectWindowMs;
  const utcOffsetMin = options.utcOffsetMin ?? -new Date().getTimezoneOffset();
  const plan = planFleet(options.devices, options.scenario ?? DEFAULTS.scenario, seed, periodMs, options.onsetMs);

  const startMs = clock();
  // The first readings fall after the connection window, so early ticks are not wasted on closed sockets.
  const firstTickMs = startMs + connectWindowMs;
  let lastServerError: string | undefined;
  const onEvent = (event: DeviceEvent) => {
    if (event.type === 'server-error') lastServerError = `${event.deviceId}: ${event.reason}`;
    options.onEvent?.(event);
  };
  const devices: Device[] = plan.map((p) => {
    const rng = createRng(p.seed);
    return createDevice({
      deviceId: p.deviceId,
      ...(p.secret === undefined ? {} : { secret: p.secret }),
      mqttUrl: options.mqttUrl,
      qos: options.qos ?? DEFAULTS.qos,
      periodMs,
      anchorMs: firstTickMs + p.phaseMs,
      patient: createPatient({ profile: p.profile, scenario: p.scenario, startMs: firstTickMs, speed: options.speed ?? DEFAULTS.speed, utcOffsetMin }),
      rng,
      assessments: options.deviceAssessments ?? DEFAULTS.deviceAssessments,
      // Jittered so a ward does not reconnect in one burst after a broker restart.
      reconnectMs: Math.round(rng.uniform(1500, 2500)),
      onEvent,
      now: clock,
    });
  });

  const connectTimers = devices.map((device, i) => setTimeout(() => device.start(), (i * connectWindowMs) / devices.length));
  let stopping: Promise<void> | null = null;

  const perDevice = () => devices.map((d) => d.stats());
  const stats = (): FleetStats => {
    const all = perDevice();
    const total: FleetStats = {
      devices: all.length,
      connected: 0,
      sent: 0,
      errorsReceived: 0,
      connectFailures: 0,
      refused: 0,
      simulatedOffline: 0,
    };
    for (const s of all) {
      if (s.connected) total.connected++;
      if (s.refused) total.refused++;
      if (s.simulatedOffline) total.simulatedOffline++;
      total.sent += s.sent;
      total.errorsReceived += s.errorsReceived;
      total.connectFailures += s.connectFailures;
    }
    if (lastServerError !== undefined) total.lastServerError = lastServerError;
    return total;
  };

  return {
    devices: plan,
    startMs: firstTickMs,
    speed: options.speed ?? DEFAULTS.speed,
    patientState(index) {
      const device = devices[index];
      if (!device) throw new RangeError(`no device ${index} in this fleet`);
      return device.patient();
    },
    stats,
    perDevice,
    async waitConnected(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (perDevice().every((s) => s.connected || s.refused)) return true;
        if (Date.now() >= deadline || stopping) return false;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop() {
      stopping ??= (async () => {
        connectTimers.forEach(clearTimeout);
        await Promise.all(devices.map((d) => d.stop()));
      })();
      return stopping;
    },
  };
}
