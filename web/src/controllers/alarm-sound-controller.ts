// The auditory alarm signal of one view (the ward board, the patient panel): owns one
// AudioContext while its host is connected, plays the IEC 60601-1-8 burst of the alarm that should
// sound (logic/alarm-sound.ts) on the AudioContext clock, switches pattern when the priority
// changes and stops at once when nothing should sound (acknowledged, silenced, resolved).
//
// Browsers start an AudioContext 'suspended' until the page has had a user gesture (autoplay
// policy): that is `blocked`, and the view shows "sound off — click to enable". A click on that
// control, or any click or key press on the page, resumes it. A wall display with nobody to click
// needs Chromium started with --autoplay-policy=no-user-gesture-required (docs/alarms.md).
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { AlertEvent } from '../../../server/domain/index.ts';
import {
  LOW_SOUNDS_DEFAULT,
  PATTERNS,
  burstPeriodMs,
  burstPulses,
  pausedAlarm,
  soundingAlarm,
  type BurstPattern,
  type Priority,
} from '../logic/alarm-sound.ts';

/**
 * What the room hears: `playing` an alarm signal; `quiet`, nothing to sound; `blocked`, the
 * browser refuses sound (autoplay policy, or no Web Audio); `muted` by someone at this display.
 */
export type SoundState = 'playing' | 'quiet' | 'blocked' | 'muted';

export interface AlarmSoundOptions {
  /** The alarms this view answers for; read on every host update. */
  alerts: () => Iterable<AlertEvent>;
  /** Sound low-priority alarms too (default: no, see LOW_SOUNDS_DEFAULT). */
  lowSounds?: boolean;
  /** Makes the AudioContext (tests); default `new AudioContext()`, null without Web Audio. */
  createContext?: () => AudioContext | null;
}

/** Output level of every pulse (IEC 60601-1-8 table 3: all pulses within 10 dB; here equal). */
const LEVEL = 0.6;
/**
 * The first burst starts this long after the decision, s: time to schedule its nodes, and margin
 * for the audio clock, which advances in render chunks even within one task — with 50 ms, a busy
 * machine's clock passed the first pulse's start while the burst was being scheduled, so it sounded
 * 20 ms late and the burst's pulse spacing (IEC 60601-1-8 table 4) was off.
 */
const START_DELAY_S = 0.15;
/** Bursts are put on the audio clock this far ahead of their start, s. */
const LOOKAHEAD_S = 1.5;
/** Stopping fades out over this long, s: "at once" without a click in the speaker. */
const RELEASE_S = 0.015;

interface Voice {
  priority: Priority;
  pattern: BurstPattern;
  /** All of this voice's pulses go through here: one fade stops them together. */
  bus: GainNode;
  oscillators: Set<OscillatorNode>;
  /** Start of the next burst not yet scheduled, on the AudioContext clock (s). */
  next: number;
  timer: number | undefined;
}

type Host = ReactiveControllerHost & HTMLElement;

function defaultContext(): AudioContext | null {
  const Ctor = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!Ctor) return null;
  try {
    return new Ctor({ latencyHint: 'interactive' });
  } catch {
    return null;
  }
}

export class AlarmSoundController implements ReactiveController {
  state: SoundState = 'quiet';
  /** The priority that should sound now, null when none (while blocked or muted: what the room is not hearing). */
  priority: Priority | null = null;
  /** The alarm that priority comes from. */
  alarm: AlertEvent | null = null;
  /** A silenced alarm outranking anything sounding, and its silence left (ms): for the countdown. */
  paused: { alarm: AlertEvent; remainingMs: number } | null = null;
  /** The browser refuses to play (autoplay policy, or no Web Audio at all: then `unsupported`). */
  blocked = false;
  unsupported = false;
  /** Muted at this display by a person. Never stored: a reload sounds again. */
  muted = false;

  private ctx: AudioContext | null = null;
  private master: GainNode | null = null;
  private waves = new Map<string, PeriodicWave>();
  private voice: Voice | null = null;
  private listening = false;

  constructor(
    private readonly host: Host,
    private readonly options: AlarmSoundOptions,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    const ctx = (this.options.createContext ?? defaultContext)();
    if (!ctx) {
      this.unsupported = true;
      this.blocked = true;
      return;
    }
    this.unsupported = false;
    this.ctx = ctx;
    this.master = ctx.createGain();
    this.master.gain.value = LEVEL;
    this.master.connect(ctx.destination);
    ctx.addEventListener('statechange', this.onStateChange);
    // Autoplay: a context made before any user gesture starts 'suspended'; resume() then stays
    // pending (Chromium) or rejects (others) until there is one.
    this.blocked = ctx.state !== 'running';
    this.listen(this.blocked);
    if (this.blocked) this.tryResume();
  }

  hostDisconnected(): void {
    this.stopVoice();
    this.listen(false);
    const ctx = this.ctx;
    this.ctx = null;
    this.master = null;
    this.waves.clear();
    if (ctx) {
      ctx.removeEventListener('statechange', this.onStateChange);
      void ctx.close().catch(() => undefined);
    }
  }

  /** Before each render: follow the host's alarms. */
  hostUpdate(): void {
    this.evaluate(false);
  }

  /** A user gesture: the click on "sound off — click to enable". */
  enable(): void {
    if (!this.ctx && this.host.isConnected) this.hostConnected();
    this.tryResume();
  }

  mute(): void {
    this.muted = true;
    this.evaluate(true);
  }

  unmute(): void {
    this.muted = false;
    this.evaluate(true);
  }

  private tryResume(): void {
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return;
    ctx.resume().then(this.onStateChange, () => {
      if (this.ctx !== ctx) return;
      this.blocked = true;
      this.listen(true);
      this.evaluate(true);
    });
  }

  private onStateChange = (): void => {
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return;
    // 'suspended' by the browser (autoplay) or 'interrupted' (another app took the output).
    const blocked = ctx.state !== 'running';
    if (blocked === this.blocked) return;
    this.blocked = blocked;
    this.listen(blocked);
    this.evaluate(true);
  };

  /** While blocked, any click or key press on the page (a user gesture) enables the sound. */
  private listen(on: boolean): void {
    if (on === this.listening) return;
    this.listening = on;
    const opts = { capture: true } as const;
    if (on) {
      window.addEventListener('pointerdown', this.onGesture, opts);
      window.addEventListener('keydown', this.onGesture, opts);
    } else {
      window.removeEventListener('pointerdown', this.onGesture, opts);
      window.removeEventListener('keydown', this.onGesture, opts);
    }
  }

  private onGesture = (): void => this.tryResume();

  /** Decide what sounds and make it so. `notify`: outside the host's update, so ask for one. */
  private evaluate(notify: boolean): void {
    const alerts = [...this.options.alerts()];
    const opts = { low: this.options.lowSounds ?? LOW_SOUNDS_DEFAULT };
    const alarm = soundingAlarm(alerts, opts);
    const paused = pausedAlarm(alerts, Date.now(), opts);
    const priority = alarm?.priority ?? null;
    const state: SoundState = this.muted ? 'muted' : this.blocked ? 'blocked' : priority ? 'playing' : 'quiet';
    const changed = state !== this.state || priority !== this.priority || alarm?.id !== this.alarm?.id;
    this.alarm = alarm;
    this.priority = priority;
    this.paused = paused;
    this.state = state;
    if (state === 'playing' && priority) this.play(priority);
    else this.stopVoice();
    if (notify && changed) this.host.requestUpdate();
  }

  /** Keep sounding `priority`: a new pattern only when the priority changes. */
  private play(priority: Priority): void {
    if (this.voice?.priority === priority) return;
    this.stopVoice();
    const ctx = this.ctx;
    if (!ctx || !this.master) return;
    const bus = ctx.createGain();
    bus.connect(this.master);
    const voice: Voice = { priority, pattern: PATTERNS[priority], bus, oscillators: new Set(), next: ctx.currentTime + START_DELAY_S, timer: undefined };
    this.voice = voice;
    this.pump(voice);
  }

  /** Put the bursts due within the lookahead on the audio clock, then sleep until the next one. */
  private pump(voice: Voice): void {
    const ctx = this.ctx;
    if (this.voice !== voice || !ctx) return;
    const period = burstPeriodMs(voice.pattern) / 1000;
    // A timer that woke late (a throttled tab) must not schedule into the past: start afresh.
    if (voice.next < ctx.currentTime + 0.01) voice.next = ctx.currentTime + START_DELAY_S;
    while (voice.next < ctx.currentTime + LOOKAHEAD_S) {
      this.scheduleBurst(ctx, voice, voice.next);
      voice.next += period;
    }
    const wakeIn = Math.max(0.05, voice.next - LOOKAHEAD_S / 2 - ctx.currentTime);
    voice.timer = window.setTimeout(() => this.pump(voice), wakeIn * 1000);
  }

  private scheduleBurst(ctx: AudioContext, voice: Voice, start: number): void {
    const p = voice.pattern;
    const wave = this.waveFor(ctx, p);
    for (const pulse of burstPulses(p, start)) {
      const osc = ctx.createOscillator();
      osc.setPeriodicWave(wave);
      osc.frequency.value = p.frequencyHz;
      // IEC 60601-1-8 table 4: rise time 10–20 % of t_d; a matching fall; flat in between.
      const env = ctx.createGain();
      env.gain.setValueAtTime(0, pulse.start);
      env.gain.linearRampToValueAtTime(1, pulse.start + p.riseMs / 1000);
      env.gain.setValueAtTime(1, pulse.end - p.fallMs / 1000);
      env.gain.linearRampToValueAtTime(0, pulse.end);
      osc.connect(env).connect(voice.bus);
      osc.addEventListener('ended', () => {
        voice.oscillators.delete(osc);
        osc.disconnect();
        env.disconnect();
      });
      osc.start(pulse.start);
      osc.stop(pulse.end);
      voice.oscillators.add(osc);
    }
  }

  /** One PeriodicWave per harmonic recipe: f_0 plus its harmonics at the pattern's levels. */
  private waveFor(ctx: AudioContext, p: BurstPattern): PeriodicWave {
    const key = p.harmonics.join(',');
    let wave = this.waves.get(key);
    if (!wave) {
      const imag = new Float32Array(p.harmonics.length + 1);
      p.harmonics.forEach((a, i) => (imag[i + 1] = a));
      wave = ctx.createPeriodicWave(new Float32Array(p.harmonics.length + 1), imag);
      this.waves.set(key, wave);
    }
    return wave;
  }

  /** Stop now: fade the voice out over RELEASE_S and cancel every pulse not yet played. */
  private stopVoice(): void {
    const voice = this.voice;
    if (!voice) return;
    this.voice = null;
    clearTimeout(voice.timer);
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return;
    const now = ctx.currentTime;
    voice.bus.gain.cancelScheduledValues(now);
    voice.bus.gain.setValueAtTime(voice.bus.gain.value, now);
    voice.bus.gain.linearRampToValueAtTime(0, now + RELEASE_S);
    // The last stop() wins: a pulse scheduled after this never starts.
    for (const osc of voice.oscillators) osc.stop(now + RELEASE_S);
    window.setTimeout(() => voice.bus.disconnect(), RELEASE_S * 1000 + 100);
  }
}
