// Telemetry: the bound sensors sampled every interval (sampler.ts) into the backlog (backlog.ts:
// a bounded RAM ring, and the flash outbox when the target has a page store, outbox.ts), written
// to the platform in batches by the uploader (uploader.ts), one batch in flight at a time, oldest
// first, each value leaving only once its write was stored (2.01). This file checks the options
// and composes the parts.
import type { Clock } from "../kernel/clock.js";
import type { ConnectivityEvent, ConnectivityListener, ConnectivitySource } from "../kernel/connectivity.js";
import type { LogSink } from "../kernel/log.js";
import type { PageStore } from "../kernel/page-store.js";
import type { RandomSource } from "../kernel/random.js";
import type { WallClock } from "../kernel/wall-clock.js";
import type { JsonObjectValue } from "../thethings/values.js";
import { Backlog, type BacklogHost } from "./backlog.js";
import { PAYLOAD_FRAME_BYTES, valueItemBytes } from "./batch-payload.js";
import type { BatchSink } from "./batch-sink.js";
import { Outbox } from "./outbox.js";
import { ReportQueue } from "./report-queue.js";
import { Sampler, type SamplerHost } from "./sampler.js";
import { type CompiledPlan, compileBindings, type SensorBinding } from "./sensor-binding.js";
import {
  PERSIST_MARGIN_MS,
  resolveTelemetryConfig,
  type TelemetryConfig,
  type TelemetrySettings,
} from "./telemetry-config.js";
import { Uploader, type UploaderHost } from "./uploader.js";
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
  /**
   * persistAfter follows maxDelay (maxDelay + PERSIST_MARGIN_MS, the configuration's `auto`) when
   * reconfigure() changes maxDelay; default: when config.persistAfterMs is not given.
   */
  readonly persistAfterAuto?: boolean;
  /**
   * When the network or the platform is back, or a new token is in use, a write waiting out its backoff goes at once.
   */
  readonly connectivity?: ConnectivitySource;
  /**
   * Flash for the outbox: values and reports that waited persistAfter survive a reboot here, and
   * what an earlier boot left is sent first. Without it everything waits in RAM only.
   */
  readonly pages?: PageStore;
}

/** Invariant: sampled + recovered = sent + buffered + dropped + rejected + discarded. */
export interface TelemetryCounters {
  /** Good readings taken. */
  readonly sampled: number;
  /** Values an earlier boot left in flash, found at this boot. */
  readonly recovered: number;
  /** Values the platform acknowledged (2.01). */
  readonly sent: number;
  /** Values waiting now, the batch in flight included. */
  readonly buffered: number;
  /** Values dropped, oldest first, because the buffer (RAM, or the flash outbox) was full. */
  readonly dropped: number;
  /** Values erased by discardBuffered() (the device was forgotten). */
  readonly discarded: number;
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
  /** The device's own reports stored at the platform, and waiting now (report()). */
  readonly reportsSent: number;
  readonly reportsWaiting: number;
  /**
   * Values stored without a datetime: sampled in this boot before the clock was set and sent
   * after holdUnstamped, and left by an earlier boot before its clock was set (never stampable).
   */
  readonly unstamped: number;
  readonly unstampedEarlierBoot: number;
  /** Values written to the flash outbox (each once), and the page writes and erases that took. */
  readonly persisted: number;
  readonly flashWrites: number;
  /** Outbox pages found torn or corrupt (skipped), or of another firmware's layout (refused). */
  readonly pagesSkipped: number;
  readonly pagesRefused: number;
}

/**
 * What may change while telemetry runs (reconfigure()): the sampling period, the flush triggers
 * and how long values wait in RAM before the flash outbox (`auto`: maxDelay + PERSIST_MARGIN_MS,
 * following maxDelay). The buffer, the payload limit and the keys are fixed at construction.
 */
export type TelemetryChange = Partial<Pick<TelemetryConfig, "intervalMs" | "batch" | "maxDelayMs">> & {
  readonly persistAfterMs?: number | "auto";
};

/** The default log: one function for every instance. */
const silent: LogSink = () => undefined;

export class Telemetry implements ConnectivityListener, BacklogHost, UploaderHost, SamplerHost {
  #config: TelemetryConfig;
  /** persistAfter is `auto`: it follows maxDelay. */
  #persistAfterAuto: boolean;
  readonly #plan: CompiledPlan;
  readonly #backlog: Backlog;
  readonly #outbox: Outbox | undefined;
  readonly #reports: ReportQueue;
  readonly #wallClock: WallClock;
  readonly #clock: Clock;
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
    this.#config = resolveTelemetryConfig(options.config);
    this.#persistAfterAuto = options.persistAfterAuto ?? options.config?.persistAfterMs === undefined;
    this.#plan = compileBindings(options.bindings);
    if (this.#plan.keys.indexOf(this.config.droppedKey) >= 0) {
      throw new TypeError(`Telemetry: key ${JSON.stringify(this.config.droppedKey)} is reserved for the drop count`);
    }
    const log = options.log ?? silent;
    /** Values not yet in a batch; bounded by config.bufferSize minus the batch in flight. */
    const ring = new ValueRing(this.config.bufferSize);
    // A report must fit a write beside the frame and the largest drop report.
    const largestDropReport = valueItemBytes(this.config.droppedKey, Number.MAX_SAFE_INTEGER);
    this.#reports = new ReportQueue(this.config.maxPayloadBytes - PAYLOAD_FRAME_BYTES - largestDropReport - 1);
    this.#wallClock = wallClock;
    this.#clock = clock;
    this.#outbox =
      options.pages === undefined
        ? undefined
        : new Outbox({
            store: options.pages,
            capacity: this.config.outboxSize,
            boot: Math.floor(random.next() * 0x100000000),
            reportSlots: ReportQueue.MAX_REPORTS,
            log,
            onDropped: (count) => this.noteDropped(count),
          });
    this.#backlog = new Backlog({
      plan: this.#plan,
      ring,
      outbox: this.#outbox,
      reports: this.#reports,
      clock,
      wallClock,
      log,
      host: this,
    });
    this.#uploader = new Uploader({
      backlog: this.#backlog,
      reports: this.#reports,
      sink,
      clock,
      random,
      log,
      host: this,
    });
    this.#sampler = new Sampler({
      plan: this.#plan,
      backlog: this.#backlog,
      host: this,
      clock,
      wallClock,
      log,
      intervalMs: this.config.intervalMs,
    });
    if (this.#outbox !== undefined) this.adoptOutbox(this.#outbox, log);
    this.#connectivity = options.connectivity;
    this.#connectivity?.subscribe(this);
  }

  /** @internal (ConnectivityListener) */
  onConnectivity(event: ConnectivityEvent): void {
    if (event.kind === "reachable" && event.via === "platform") this.#uploader.notePlatformAnswered();
    if (event.kind === "reachable" || event.kind === "token-changed") this.retryNow();
  }

  /** The configuration in force (reconfigure() replaces it). */
  get config(): TelemetryConfig {
    return this.#config;
  }

  /** @internal (BacklogHost) */
  get unreportedDrops(): number {
    // Undefined only while the constructor builds the parts before the uploader: nothing dropped yet.
    return this.#uploader?.unreportedDrops ?? 0;
  }

  /** @internal (BacklogHost) */
  noteDropped(count: number): void {
    this.#uploader?.noteDropped(count);
  }

  /** @internal (SamplerHost) */
  roundEnded(): void {
    // Each round looks at the wall clock, even while a retry waits: values sampled before it was
    // set get their datetimes (in flash too) as soon as it is.
    this.#backlog.noticeClock();
    this.#uploader.pump();
  }

  /** The reports an earlier boot left in flash join the queue (unless one waits on that key); the bound is checked. */
  private adoptOutbox(outbox: Outbox, log: LogSink): void {
    const { reports, adopt } = outbox.takeRecoveredReports();
    const now = this.#clock.now();
    adopt(
      reports.map((report) => {
        const problem = this.#reports.put(report.key, report.value, report.datetime, now, false, false);
        return problem === undefined ? this.#reports.serialOf(report.key) : -1;
      }),
    );
    const fits = outbox.valuesThatFit(this.#plan.keys);
    if (this.config.outboxSize > fits)
      log("warn", `telemetry: outboxSize ${this.config.outboxSize}, but the flash holds about ${fits} values`);
  }

  get counters(): TelemetryCounters {
    const sampled = this.#sampler.counters;
    const uploaded = this.#uploader.counters;
    const flash = this.#outbox?.counters;
    return Object.freeze({
      sampled: sampled.sampled,
      recovered: flash?.recovered ?? 0,
      sent: uploaded.sent,
      buffered: this.#backlog.waiting + this.#backlog.inFlight,
      dropped: this.#backlog.dropped,
      discarded: this.#backlog.discarded,
      skipped: sampled.skipped,
      sampleErrors: sampled.sampleErrors,
      batchesSent: uploaded.batchesSent,
      writeFailures: uploaded.writeFailures,
      rejected: uploaded.rejected,
      reportsSent: uploaded.reportsSent,
      reportsWaiting: this.#reports.size,
      unstamped: uploaded.unstamped,
      unstampedEarlierBoot: uploaded.unstampedEarlierBoot,
      persisted: flash?.persisted ?? 0,
      flashWrites: flash === undefined ? 0 : flash.writes + flash.erases,
      pagesSkipped: flash?.pagesSkipped ?? 0,
      pagesRefused: flash?.pagesRefused ?? 0,
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
   * Queues a report the device writes about itself: a JSON object on `key` (device.boot, …), sent
   * with the next batch (at the latest maxDelay after it was made; at once with `urgent`) and
   * stamped with the wall clock when it is set. A report still waiting on the same key is
   * replaced. Returns why it cannot be sent (a reading's key, not a thing key, not plain JSON, too
   * large, too many keys), or undefined.
   */
  report(key: string, value: JsonObjectValue, options: { readonly urgent?: boolean } = {}): string | undefined {
    if (this.#closed) return "telemetry is closed";
    if (key === this.config.droppedKey || this.#plan.keys.indexOf(key) >= 0) return `${key} is the key of a reading`;
    let utc: number | undefined;
    try {
      utc = this.#wallClock.utcNow();
    } catch {
      utc = undefined;
    }
    const datetime = isPlausibleUtc(utc) ? Math.floor(utc / 1000) * 1000 : undefined;
    const problem = this.#reports.put(key, value, datetime, this.#clock.now(), options.urgent === true);
    if (problem !== undefined) return problem;
    if (datetime === undefined) this.#backlog.noteUnstampedReport();
    // A report it replaced may have had a page in flash.
    this.#backlog.syncReports();
    this.#uploader.pump();
    return undefined;
  }

  /**
   * Changes the sampling period or the flush triggers at once, checked as at construction: a new
   * interval counts from the last round (the next comes one new interval after it, no burst and
   * no gap), a new batch or maxDelay applies to the values waiting now. Returns why the change
   * was refused (nothing changed then), or undefined.
   */
  reconfigure(change: TelemetryChange): string | undefined {
    if (this.#closed) return "telemetry is closed";
    let next: TelemetryConfig;
    const auto = change.persistAfterMs === undefined ? this.#persistAfterAuto : change.persistAfterMs === "auto";
    try {
      const maxDelayMs = change.maxDelayMs ?? this.#config.maxDelayMs;
      const persistAfterMs = auto
        ? maxDelayMs + PERSIST_MARGIN_MS
        : (change.persistAfterMs ?? this.#config.persistAfterMs);
      next = resolveTelemetryConfig({ ...this.#config, ...change, persistAfterMs: persistAfterMs as number });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    const persistAfterChanged = next.persistAfterMs !== this.#config.persistAfterMs;
    this.#config = next;
    this.#persistAfterAuto = auto;
    if (persistAfterChanged) this.#backlog.persistAfterChanged();
    this.#sampler.setInterval(next.intervalMs);
    this.#uploader.configChanged();
    return undefined;
  }

  /**
   * The network or the thing token came back: make the next attempt now rather than wait out
   * the backoff, which restarts from its first step. Does nothing while a write is in flight
   * or when no retry is pending.
   */
  retryNow(): void {
    if (!this.#closed) this.#uploader.retryNow();
  }

  /**
   * Drops every value and report buffered, in RAM and in the flash outbox (the device was
   * forgotten: nothing it sampled for its old owner may reach the platform). A write in flight is
   * not cancelled, but its values no longer count as buffered. Returns how many values went.
   */
  discardBuffered(): number {
    if (this.#closed) return 0;
    this.#uploader.discard();
    this.#reports.clear();
    return this.#backlog.discard();
  }

  /**
   * Stops everything; what waits in RAM is abandoned, what waits in the flash outbox stays there
   * for the next boot. Safe to call twice.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#connectivity?.unsubscribe(this);
    this.#sampler.stop();
    this.#uploader.close();
    this.#backlog.close();
    this.#reports.clear();
  }
}
