// Telemetry: the bound sensors sampled every interval (sampler.ts) into a bounded
// store-and-forward ring (value-ring.ts, the seam), written to the platform in batches by the
// uploader (uploader.ts), one batch in flight at a time, oldest first, each value leaving the
// ring only once its write was stored (2.01). This file checks the options and composes the two.
import type { Clock } from "../kernel/clock.js";
import type { ConnectivityEvent, ConnectivityListener, ConnectivitySource } from "../kernel/connectivity.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { WallClock } from "../kernel/wall-clock.js";
import type { BatchSink } from "./batch-sink.js";
import { Sampler } from "./sampler.js";
import { type CompiledPlan, compileBindings, type SensorBinding } from "./sensor-binding.js";
import { resolveTelemetryConfig, type TelemetryConfig, type TelemetrySettings } from "./telemetry-config.js";
import { Uploader } from "./uploader.js";
import { ValueRing } from "./value-ring.js";

export interface TelemetryOptions {
  readonly bindings: readonly SensorBinding[];
  readonly sink: BatchSink;
  /** Monotonic time and the timers for sampling, maxDelay and retries. */
  readonly clock: Clock;
  /** UTC for each value's datetime; values sampled while it reads undefined carry none. */
  readonly wallClock: WallClock;
  /** Jitter for the retry backoff. */
  readonly random: RandomSource;
  readonly log?: LogSink;
  readonly config?: TelemetrySettings;
  /**
   * When the network or the platform is back, or a new token is in use, a write waiting out its backoff goes at once.
   */
  readonly connectivity?: ConnectivitySource;
}

/** Invariant: sampled = sent + buffered + dropped + rejected. */
export interface TelemetryCounters {
  /** Good readings taken. */
  readonly sampled: number;
  /** Values the platform acknowledged (2.01). */
  readonly sent: number;
  /** Values waiting now, the batch in flight included. */
  readonly buffered: number;
  /** Values dropped, oldest first, because the buffer was full. */
  readonly dropped: number;
  /** Readings that were missing, not numbers, NaN or infinite. */
  readonly skipped: number;
  /** sample() calls that threw. */
  readonly sampleErrors: number;
  /** Batches acknowledged. */
  readonly batchesSent: number;
  /** Write attempts that did not end in 2.01 (unanswered, refused, or not sendable). */
  readonly writeFailures: number;
  /** Values in batches the platform refused for good (4.00, 4.13, 4.15): given up, not retried. */
  readonly rejected: number;
}

export class Telemetry implements ConnectivityListener {
  readonly config: TelemetryConfig;
  readonly #plan: CompiledPlan;
  /** Values not yet in a batch; bounded by config.bufferSize minus the batch in flight. */
  readonly #ring: ValueRing;
  readonly #sampler: Sampler;
  readonly #uploader: Uploader;
  readonly #connectivity: ConnectivitySource | undefined;
  #closed = false;

  constructor(options: TelemetryOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("Telemetry: options object required");
    const { sink, clock, wallClock, random } = options;
    if (sink === null || typeof sink !== "object" || typeof sink.send !== "function")
      throw new TypeError("Telemetry: sink.send required");
    if (clock === null || typeof clock !== "object" || typeof clock.setTimer !== "function")
      throw new TypeError("Telemetry: clock required");
    if (wallClock === null || typeof wallClock !== "object" || typeof wallClock.utcNow !== "function")
      throw new TypeError("Telemetry: wallClock required");
    if (random === null || typeof random !== "object" || typeof random.next !== "function")
      throw new TypeError("Telemetry: random required");
    this.config = resolveTelemetryConfig(options.config);
    this.#plan = compileBindings(options.bindings);
    if (this.#plan.keys.indexOf(this.config.droppedKey) >= 0) {
      throw new TypeError(`Telemetry: key ${JSON.stringify(this.config.droppedKey)} is reserved for the drop count`);
    }
    const log = options.log ?? (() => undefined);
    this.#ring = new ValueRing(this.config.bufferSize);
    const uploader = new Uploader({
      plan: this.#plan,
      ring: this.#ring,
      sink,
      clock,
      random,
      log,
      config: this.config,
    });
    this.#uploader = uploader;
    this.#sampler = new Sampler({
      plan: this.#plan,
      ring: this.#ring,
      bufferSize: this.config.bufferSize,
      uploader,
      clock,
      wallClock,
      log,
      intervalMs: this.config.intervalMs,
    });
    this.#connectivity = options.connectivity;
    this.#connectivity?.subscribe(this);
  }

  /** @internal (ConnectivityListener) */
  onConnectivity(event: ConnectivityEvent): void {
    if (event.kind === "reachable" || event.kind === "token-changed") this.retryNow();
  }

  get counters(): TelemetryCounters {
    const sampled = this.#sampler.counters;
    const uploaded = this.#uploader.counters;
    return Object.freeze({
      sampled: sampled.sampled,
      sent: uploaded.sent,
      buffered: this.#ring.size + this.#uploader.inFlight,
      dropped: sampled.dropped,
      skipped: sampled.skipped,
      sampleErrors: sampled.sampleErrors,
      batchesSent: uploaded.batchesSent,
      writeFailures: uploaded.writeFailures,
      rejected: uploaded.rejected,
    });
  }

  /** Whether the sampling loop runs. */
  get running(): boolean {
    return this.#sampler.running;
  }

  /** Samples now, then every intervalMs. Calling it while running does nothing. */
  start(): void {
    if (this.#closed) throw new Error("Telemetry: closed");
    this.#sampler.start();
  }

  /** Stops sampling; values already buffered keep being delivered. */
  stop(): void {
    this.#sampler.stop();
  }

  /**
   * The network or the thing token came back: make the next attempt now rather than wait out
   * the backoff, which restarts from its first step. Does nothing while a write is in flight
   * or when no retry is pending.
   */
  retryNow(): void {
    if (!this.#closed) this.#uploader.retryNow();
  }

  /** Stops everything; buffered values are abandoned (they live in RAM only). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connectivity?.unsubscribe(this);
    this.#sampler.stop();
    this.#uploader.close();
  }
}
