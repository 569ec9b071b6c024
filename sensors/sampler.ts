// The sampling loop: every bound sensor once per interval, each good reading into the value
// ring with its key, its UTC second (once the wall clock is set) and its monotonic time. Rounds
// are due at origin + k × interval (no drift); rounds missed by a late timer are skipped, not
// bunched. A failing sensor or reading is logged when it starts and when it stops, not every round.
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { WallClock } from "../kernel/wall-clock.js";
import { formatCompactDate } from "../thethings/dates.js";
import { valueItemBytes } from "./batch-payload.js";
import { type CompiledPlan, extractReading } from "./sensor-binding.js";
import { isPlausibleUtc } from "./utc-datetime.js";
import type { ValueRing } from "./value-ring.js";

export interface SamplerOptions {
  readonly plan: CompiledPlan;
  /** Where values wait; the uploader takes them from the old end. */
  readonly ring: ValueRing;
  /** The bound on values waiting, the batch in flight included (config.bufferSize). */
  readonly bufferSize: number;
  /** The other end of the ring (an object, not four closures: they would live as long as the sampler). */
  readonly uploader: SamplerUploader;
  readonly clock: Clock;
  readonly wallClock: WallClock;
  readonly log: LogSink;
  readonly intervalMs: number;
}

/** What the sampler tells the uploader (uploader.ts) and asks of it. */
export interface SamplerUploader {
  /** Values held outside the ring (the batch in flight). */
  readonly inFlight: number;
  /** Drops not yet reported to the platform. */
  readonly unreportedDrops: number;
  /** A value was dropped to make room. */
  noteDropped(): void;
  /** A round ended: there may be a batch to send. */
  pump(): void;
}

export interface SamplerCounters {
  readonly sampled: number;
  readonly dropped: number;
  readonly skipped: number;
  readonly sampleErrors: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export class Sampler {
  readonly #options: SamplerOptions;
  /** Per binding / per reading: whether the last round failed, so logs report changes, not every round. */
  readonly #sensorFailing: boolean[];
  readonly #readingBad: boolean[];
  #timer: TimerHandle | undefined;
  #origin = 0;
  #ticks = 0;
  #sampled = 0;
  #dropped = 0;
  #skipped = 0;
  #sampleErrors = 0;

  constructor(options: SamplerOptions) {
    this.#options = options;
    this.#sensorFailing = options.plan.bindings.map(() => false);
    this.#readingBad = [];
    for (let i = 0; i < options.plan.readingCount; i++) this.#readingBad.push(false);
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  get counters(): SamplerCounters {
    return { sampled: this.#sampled, dropped: this.#dropped, skipped: this.#skipped, sampleErrors: this.#sampleErrors };
  }

  /** Samples now, then every interval. Calling it while running does nothing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#origin = this.#options.clock.now();
    this.#ticks = 0;
    this.#onSampleTime();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #onSampleTime(): void {
    // Next round first, so nothing in this round can stop the loop.
    const { clock, intervalMs } = this.#options;
    const now = clock.now();
    this.#ticks++;
    if (this.#origin + this.#ticks * intervalMs <= now) this.#ticks = Math.floor((now - this.#origin) / intervalMs) + 1;
    this.#timer = clock.setTimer(() => this.#onSampleTime(), this.#origin + this.#ticks * intervalMs - now);
    this.#round(now);
    this.#options.uploader.pump();
  }

  #utcSecondsNow(): number {
    let utc: number | undefined;
    try {
      utc = this.#options.wallClock.utcNow();
    } catch {
      utc = undefined;
    }
    return isPlausibleUtc(utc) ? Math.floor(utc / 1000) : Number.NaN;
  }

  #round(now: number): void {
    const { plan, log } = this.#options;
    const utcSeconds = this.#utcSecondsNow();
    const datetime = Number.isNaN(utcSeconds) ? undefined : formatCompactDate(utcSeconds * 1000);
    let flat = 0;
    plan.bindings.forEach((binding, b) => {
      const first = flat;
      flat += binding.readings.length;
      let sample: unknown;
      try {
        sample = binding.sensor.sample();
      } catch (error) {
        this.#sampleErrors++;
        if (!this.#sensorFailing[b]) log("warn", `telemetry: ${binding.name}: sample() threw: ${describe(error)}`);
        this.#sensorFailing[b] = true;
        return;
      }
      if (this.#sensorFailing[b]) log("info", `telemetry: ${binding.name}: sampling again`);
      this.#sensorFailing[b] = false;
      binding.readings.forEach((reading, r) => {
        const value = extractReading(sample, reading);
        const bad = value === undefined;
        if (bad !== this.#readingBad[first + r]) {
          log(
            bad ? "warn" : "info",
            `telemetry: ${binding.name}: ${reading.segments.join(".")} ${bad ? "missing or not a finite number: skipped" : "valid again"}`,
          );
        }
        this.#readingBad[first + r] = bad;
        if (value === undefined) this.#skipped++;
        else this.#take(reading.keyIndex, value, utcSeconds, datetime, now);
      });
    });
  }

  #take(keyIndex: number, value: number, utcSeconds: number, datetime: string | undefined, now: number): void {
    const { ring, bufferSize, plan, uploader } = this.#options;
    this.#sampled++;
    const itemBytes = valueItemBytes(plan.keys[keyIndex]!, value, datetime);
    if (ring.size + uploader.inFlight >= bufferSize) {
      // Once per overflow: again only after every drop so far has been reported.
      if (uploader.unreportedDrops === 0)
        this.#options.log("warn", `telemetry: buffer full (${bufferSize}): dropping the oldest values`);
      this.#dropped++;
      uploader.noteDropped();
      // The batch in flight is pinned: the oldest value not in it goes, which is this one when
      // the batch fills the whole buffer.
      if (ring.size === 0) return;
      ring.dropOldest();
    }
    ring.push(keyIndex, value, utcSeconds, now, itemBytes);
  }
}
