// The sampling loop: every bound sensor once per interval, each good reading into the backlog's
// ring with its key, its UTC second (once the wall clock is set) and its monotonic time. Rounds
// are due at origin + k × interval (no drift); rounds missed by a late timer are skipped, not
// bunched. A failing sensor or reading is logged when it starts and when it stops, not every round.
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { WallClock } from "../kernel/wall-clock.js";
import { formatCompactDate } from "../thethings/dates.js";
import type { Backlog } from "./backlog.js";
import { valueItemBytes } from "./batch-payload.js";
import { type CompiledPlan, extractReading, readingPath } from "./sensor-binding.js";
import { isPlausibleUtc } from "./utc-datetime.js";

export interface SamplerOptions {
  readonly plan: CompiledPlan;
  /** Where values wait (it bounds RAM and drops on overflow); the uploader takes them from the front. */
  readonly backlog: Backlog;
  /** The telemetry composing it: one object told, rather than a closure kept. */
  readonly host: SamplerHost;
  readonly clock: Clock;
  readonly wallClock: WallClock;
  readonly log: LogSink;
  /** The first interval; setInterval() changes it. */
  readonly intervalMs: number;
}

/** What the sampler tells the telemetry that composes it. */
export interface SamplerHost {
  /** A round ended: the uploader may have a batch to send. */
  roundEnded(): void;
}

export interface SamplerCounters {
  readonly sampled: number;
  readonly skipped: number;
  readonly sampleErrors: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export class Sampler {
  readonly #options: SamplerOptions;
  /**
   * Whether the last round failed, so logs report changes, not every round: per binding (its
   * sample() threw), then per reading (missing or not a finite number). One array for both.
   */
  readonly #failing: boolean[] = [];
  #timer: TimerHandle | undefined;
  #intervalMs: number;
  #origin = 0;
  #ticks = 0;
  /** When the last round ran: a new interval counts from it. */
  #lastRoundAt = 0;
  #sampled = 0;
  #skipped = 0;
  #sampleErrors = 0;

  constructor(options: SamplerOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs;
    const { plan } = options;
    for (let i = 0; i < plan.bindings.length + plan.readingCount; i++) this.#failing.push(false);
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  get counters(): SamplerCounters {
    return { sampled: this.#sampled, skipped: this.#skipped, sampleErrors: this.#sampleErrors };
  }

  /** Samples now, then every interval. Calling it while running does nothing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#origin = this.#options.clock.now();
    this.#ticks = 0;
    this.onSampleTime();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A new sampling period, from the last round on: the next round comes one new interval after
   * it, or now if that time has passed, and the new grid counts from that round, so a change
   * neither bunches rounds nor leaves a gap.
   */
  setInterval(intervalMs: number): void {
    if (intervalMs === this.#intervalMs) return;
    this.#intervalMs = intervalMs;
    if (this.#timer === undefined) return;
    const { clock } = this.#options;
    clock.clearTimer(this.#timer);
    const now = clock.now();
    // The next round is round 1 of a grid whose round 0 is the last one (or a virtual one, one
    // new interval ago, when the last is further back than that).
    this.#origin = Math.max(this.#lastRoundAt, now - intervalMs);
    this.#ticks = 1;
    this.#timer = clock.setTimer(() => this.onSampleTime(), this.#origin + intervalMs - now);
  }

  private onSampleTime(): void {
    // Next round first, so nothing in this round can stop the loop.
    const { clock } = this.#options;
    const intervalMs = this.#intervalMs;
    const now = clock.now();
    this.#lastRoundAt = now;
    this.#ticks++;
    if (this.#origin + this.#ticks * intervalMs <= now) this.#ticks = Math.floor((now - this.#origin) / intervalMs) + 1;
    this.#timer = clock.setTimer(() => this.onSampleTime(), this.#origin + this.#ticks * intervalMs - now);
    this.round(now);
    this.#options.host.roundEnded();
  }

  private utcSecondsNow(): number {
    let utc: number | undefined;
    try {
      utc = this.#options.wallClock.utcNow();
    } catch {
      utc = undefined;
    }
    return isPlausibleUtc(utc) ? Math.floor(utc / 1000) : Number.NaN;
  }

  private round(now: number): void {
    const { plan, log } = this.#options;
    const utcSeconds = this.utcSecondsNow();
    const datetime = Number.isNaN(utcSeconds) ? undefined : formatCompactDate(utcSeconds * 1000);
    const failing = this.#failing;
    let flat = plan.bindings.length;
    plan.bindings.forEach((binding, b) => {
      const first = flat;
      flat += binding.readings.length;
      let sample: unknown;
      try {
        sample = binding.sensor.sample();
      } catch (error) {
        this.#sampleErrors++;
        if (!failing[b]) log("warn", `telemetry: ${binding.name}: sample() threw: ${describe(error)}`);
        failing[b] = true;
        return;
      }
      if (failing[b]) log("info", `telemetry: ${binding.name}: sampling again`);
      failing[b] = false;
      binding.readings.forEach((reading, r) => {
        const value = extractReading(sample, reading);
        const bad = value === undefined;
        if (bad !== failing[first + r]) {
          log(
            bad ? "warn" : "info",
            `telemetry: ${binding.name}: ${readingPath(reading)} ${bad ? "missing or not a finite number: skipped" : "valid again"}`,
          );
        }
        failing[first + r] = bad;
        if (value === undefined) this.#skipped++;
        else this.take(reading.keyIndex, value, utcSeconds, datetime, now);
      });
    });
  }

  private take(keyIndex: number, value: number, utcSeconds: number, datetime: string | undefined, now: number): void {
    const { backlog, plan } = this.#options;
    this.#sampled++;
    backlog.push(keyIndex, value, utcSeconds, now, valueItemBytes(plan.keys[keyIndex]!, value, datetime));
  }
}
