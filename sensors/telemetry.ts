// The telemetry loop: samples the bound sensors every interval, keeps the values in a bounded
// store-and-forward ring, and writes them to the platform in batches, one batch in flight at a
// time, oldest first, each value leaving the buffer only once its write was stored (2.01).
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { ConnectivitySource } from "../kernel/connectivity.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import { Backoff } from "../kernel/backoff.js";
import type { WallClock } from "../kernel/wall-clock.js";
import { formatCompactDate } from "../thethings/dates.js";
import type { BatchAttempt, BatchOutcome, BatchSink, BatchValue } from "./batch-sink.js";
import { payloadBytes, valueItemBytes } from "./batch-payload.js";
import { type CompiledPlan, type SensorBinding, compileBindings, extractReading } from "./sensor-binding.js";
import { type TelemetryConfig, type TelemetrySettings, resolveTelemetryConfig } from "./telemetry-config.js";
import { isPlausibleUtc } from "./utc-datetime.js";
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
  /** When the network or the platform is back, or a new token is in use, a write waiting out its backoff goes at once. */
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

/** The batch being delivered: fixed once formed, so every attempt carries the same values. */
interface PinnedBatch {
  /** The sampled values, oldest first, then the drop report if any. Bounded by config.batch + 1. */
  readonly values: readonly BatchValue[];
  /** Sampled values in `values` (the drop report is not one). */
  readonly valueCount: number;
  /** The drop count this batch reports on the reserved key (0: no report item). */
  readonly droppedReported: number;
  /**
   * The handle of the last unanswered attempt, passed back with the next one: the sink (the
   * endpoint that owns the transmission parameters) decides whether that message may still go
   * again or a new one must (RFC 7252 §4.8.2 EXCHANGE_LIFETIME).
   */
  retry: BatchAttempt | undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isOutcome(value: unknown): value is BatchOutcome {
  if (value === null || typeof value !== "object") return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === "stored" || kind === "unanswered" || kind === "refused" || kind === "unavailable";
}

export class Telemetry {
  readonly config: TelemetryConfig;
  readonly #plan: CompiledPlan;
  readonly #sink: BatchSink;
  readonly #clock: Clock;
  readonly #wallClock: WallClock;
  readonly #backoff: Backoff;
  readonly #log: LogSink;
  /** Values not yet in a batch; bounded by config.bufferSize minus the batch in flight. */
  readonly #ring: ValueRing;
  /** Per binding / per reading: whether the last round failed, so logs report changes, not every round. */
  readonly #sensorFailing: boolean[];
  readonly #readingBad: boolean[];
  readonly #unsubscribe: () => void;

  #pinned: PinnedBatch | undefined;
  #sending = false;
  #droppedUnreported = 0;
  #sampleTimer: TimerHandle | undefined;
  #flushTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #origin = 0;
  #ticks = 0;
  #closed = false;

  #sampled = 0;
  #sent = 0;
  #dropped = 0;
  #skipped = 0;
  #sampleErrors = 0;
  #batchesSent = 0;
  #writeFailures = 0;
  #rejected = 0;

  constructor(options: TelemetryOptions) {
    if (options === null || typeof options !== "object") throw new TypeError("Telemetry: options object required");
    const { sink, clock, wallClock, random } = options;
    if (sink === null || typeof sink !== "object" || typeof sink.send !== "function") throw new TypeError("Telemetry: sink.send required");
    if (clock === null || typeof clock !== "object" || typeof clock.setTimer !== "function") throw new TypeError("Telemetry: clock required");
    if (wallClock === null || typeof wallClock !== "object" || typeof wallClock.utcNow !== "function") throw new TypeError("Telemetry: wallClock required");
    if (random === null || typeof random !== "object" || typeof random.next !== "function") throw new TypeError("Telemetry: random required");
    this.config = resolveTelemetryConfig(options.config);
    this.#plan = compileBindings(options.bindings);
    if (this.#plan.keys.indexOf(this.config.droppedKey) >= 0) {
      throw new TypeError(`Telemetry: key ${JSON.stringify(this.config.droppedKey)} is reserved for the drop count`);
    }
    this.#sink = sink;
    this.#clock = clock;
    this.#wallClock = wallClock;
    this.#backoff = new Backoff({ random, ...this.config.backoff });
    this.#log = options.log ?? (() => undefined);
    this.#ring = new ValueRing(this.config.bufferSize);
    this.#sensorFailing = this.#plan.bindings.map(() => false);
    this.#readingBad = [];
    for (let i = 0; i < this.#plan.readingCount; i++) this.#readingBad.push(false);
    this.#unsubscribe =
      options.connectivity?.subscribe((event) => {
        if (event.kind === "reachable" || event.kind === "token-changed") this.retryNow();
      }) ?? (() => undefined);
  }

  get counters(): TelemetryCounters {
    return Object.freeze({
      sampled: this.#sampled,
      sent: this.#sent,
      buffered: this.#ring.size + (this.#pinned?.valueCount ?? 0),
      dropped: this.#dropped,
      skipped: this.#skipped,
      sampleErrors: this.#sampleErrors,
      batchesSent: this.#batchesSent,
      writeFailures: this.#writeFailures,
      rejected: this.#rejected,
    });
  }

  /** Whether the sampling loop runs. */
  get running(): boolean {
    return this.#sampleTimer !== undefined;
  }

  /** Samples now, then every intervalMs. Calling it while running does nothing. */
  start(): void {
    if (this.#closed) throw new Error("Telemetry: closed");
    if (this.#sampleTimer !== undefined) return;
    this.#origin = this.#clock.now();
    this.#ticks = 0;
    this.#onSampleTime();
  }

  /** Stops sampling; values already buffered keep being delivered. */
  stop(): void {
    this.#cancel(this.#sampleTimer);
    this.#sampleTimer = undefined;
  }

  /**
   * The network or the thing token came back: make the next attempt now rather than wait out
   * the backoff, which restarts from its first step. Does nothing while a write is in flight
   * or when no retry is pending.
   */
  retryNow(): void {
    if (this.#closed || this.#retryTimer === undefined) return;
    this.#cancel(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff.reset();
    this.#pump();
  }

  /** Stops everything; buffered values are abandoned (they live in RAM only). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    this.stop();
    this.#cancel(this.#flushTimer);
    this.#cancel(this.#retryTimer);
    this.#flushTimer = undefined;
    this.#retryTimer = undefined;
  }

  #cancel(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#clock.clearTimer(handle);
  }

  #onSampleTime(): void {
    // Next round first, so nothing in this round can stop the loop. Rounds are due at
    // origin + k × interval (no drift); rounds missed by a late timer are skipped, not bunched.
    const now = this.#clock.now();
    const interval = this.config.intervalMs;
    this.#ticks++;
    if (this.#origin + this.#ticks * interval <= now) this.#ticks = Math.floor((now - this.#origin) / interval) + 1;
    this.#sampleTimer = this.#clock.setTimer(() => this.#onSampleTime(), this.#origin + this.#ticks * interval - now);
    this.#sampleRound(now);
    this.#pump();
  }

  #utcSecondsNow(): number {
    let utc: number | undefined;
    try {
      utc = this.#wallClock.utcNow();
    } catch {
      utc = undefined;
    }
    return isPlausibleUtc(utc) ? Math.floor(utc / 1000) : NaN;
  }

  #sampleRound(now: number): void {
    const utcSeconds = this.#utcSecondsNow();
    const datetime = Number.isNaN(utcSeconds) ? undefined : formatCompactDate(utcSeconds * 1000);
    let flat = 0;
    this.#plan.bindings.forEach((binding, b) => {
      const first = flat;
      flat += binding.readings.length;
      let sample: unknown;
      try {
        sample = binding.sensor.sample();
      } catch (error) {
        this.#sampleErrors++;
        if (!this.#sensorFailing[b]) this.#log("warn", `telemetry: ${binding.name}: sample() threw: ${describe(error)}`);
        this.#sensorFailing[b] = true;
        return;
      }
      if (this.#sensorFailing[b]) this.#log("info", `telemetry: ${binding.name}: sampling again`);
      this.#sensorFailing[b] = false;
      binding.readings.forEach((reading, r) => {
        const value = extractReading(sample, reading);
        const bad = value === undefined;
        if (bad !== this.#readingBad[first + r]) {
          this.#log(bad ? "warn" : "info", `telemetry: ${binding.name}: ${reading.segments.join(".")} ${bad ? "missing or not a finite number: skipped" : "valid again"}`);
        }
        this.#readingBad[first + r] = bad;
        if (value === undefined) this.#skipped++;
        else this.#take(reading.keyIndex, value, utcSeconds, datetime, now);
      });
    });
  }

  #take(keyIndex: number, value: number, utcSeconds: number, datetime: string | undefined, now: number): void {
    this.#sampled++;
    const itemBytes = valueItemBytes(this.#plan.keys[keyIndex]!, value, datetime);
    if (this.#ring.size + (this.#pinned?.valueCount ?? 0) >= this.config.bufferSize) {
      if (this.#droppedUnreported === 0) this.#log("warn", `telemetry: buffer full (${this.config.bufferSize}): dropping the oldest values`);
      this.#dropped++;
      this.#droppedUnreported++;
      // The batch in flight is pinned: the oldest value not in it goes, which is this one when
      // the batch fills the whole buffer.
      if (this.#ring.size === 0) return;
      this.#ring.dropOldest();
    }
    this.#ring.push(keyIndex, value, utcSeconds, now, itemBytes);
  }

  /** Starts the next write if one may go now; otherwise makes sure a timer will come back. */
  #pump(): void {
    if (this.#closed || this.#sending || this.#retryTimer !== undefined) return;
    if (this.#pinned === undefined && !this.#formBatchIfDue()) return;
    this.#send();
  }

  /**
   * How many of the oldest values fit one payload, with the drop report if one is due. At least
   * one whenever the ring holds any: MIN_PAYLOAD_BYTES fits the largest item and a report.
   */
  #fittingCount(): number {
    const { batch, maxPayloadBytes } = this.config;
    let items = 0;
    let bytes = 0;
    if (this.#droppedUnreported > 0) {
      items = 1;
      bytes = valueItemBytes(this.config.droppedKey, this.#droppedUnreported);
    }
    const limit = Math.min(batch, this.#ring.size);
    let count = 0;
    while (count < limit) {
      const next = bytes + this.#ring.itemBytes(count);
      if (payloadBytes(next, items + 1) > maxPayloadBytes) break;
      bytes = next;
      items++;
      count++;
    }
    return count;
  }

  /**
   * Forms the next batch when a flush trigger holds: `batch` values waiting, the oldest waiting
   * for maxDelayMs, or the next value not fitting the payload limit. Otherwise arms the
   * maxDelay timer. Returns whether a batch was formed.
   */
  #formBatchIfDue(): boolean {
    this.#cancel(this.#flushTimer);
    this.#flushTimer = undefined;
    const ring = this.#ring;
    if (ring.size === 0) return false;
    const count = this.#fittingCount();
    const now = this.#clock.now();
    const oldestDueAt = ring.at(0) + this.config.maxDelayMs;
    if (count < this.config.batch && count === ring.size && now < oldestDueAt) {
      this.#flushTimer = this.#clock.setTimer(() => {
        this.#flushTimer = undefined;
        this.#pump();
      }, oldestDueAt - now);
      return false;
    }
    const values: BatchValue[] = [];
    for (let i = 0; i < count; i++) {
      const key = this.#plan.keys[ring.keyIndex(i)]!;
      const utcSeconds = ring.utcSeconds(i);
      values.push(Number.isNaN(utcSeconds) ? { key, value: ring.value(i) } : { key, value: ring.value(i), datetime: utcSeconds * 1000 });
    }
    const droppedReported = this.#droppedUnreported;
    if (droppedReported > 0) values.push({ key: this.config.droppedKey, value: droppedReported });
    ring.dropOldest(count);
    this.#pinned = { values: Object.freeze(values), valueCount: count, droppedReported, retry: undefined };
    return true;
  }

  #send(): void {
    const batch = this.#pinned!;
    this.#sending = true;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(this.#sink.send(batch.values, batch.retry));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (outcome) => this.#settle(batch, isOutcome(outcome) ? outcome : { kind: "unavailable", reason: `sink answered ${describe(outcome)}` }),
      (error: unknown) => this.#settle(batch, { kind: "unavailable", reason: `sink threw ${describe(error)}` }),
    );
  }

  #settle(batch: PinnedBatch, outcome: BatchOutcome): void {
    if (this.#closed) return;
    this.#sending = false;
    if (outcome.kind === "stored") {
      if (this.#backoff.attempts > 0) this.#log("info", `telemetry: writes go through again after ${this.#backoff.attempts} failed attempts`);
      this.#backoff.reset();
      this.#pinned = undefined;
      this.#sent += batch.valueCount;
      this.#batchesSent++;
      this.#droppedUnreported -= batch.droppedReported;
      this.#pump();
      return;
    }
    let detail: string;
    if (outcome.kind === "unanswered") {
      batch.retry = outcome.retry;
      detail = "no answer";
    } else if (outcome.kind === "refused") {
      // The server answered, so it has this message ID: a copy would only get the cached error.
      batch.retry = undefined;
      detail = `refused ${outcome.code}${outcome.message === undefined ? "" : ` (${outcome.message})`}`;
      if (outcome.permanent) {
        this.#log("error", `telemetry: batch of ${batch.valueCount} values ${detail}: given up`);
        this.#pinned = undefined;
        this.#rejected += batch.valueCount;
      }
    } else detail = `not sent: ${outcome.reason}`;
    this.#writeFailures++;
    const delay = this.#backoff.next();
    this.#log(this.#backoff.attempts === 1 ? "warn" : "debug", `telemetry: write ${detail}; next attempt in ${delay} ms`);
    this.#retryTimer = this.#clock.setTimer(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, delay);
  }
}
