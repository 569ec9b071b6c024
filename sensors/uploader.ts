// The uploader: takes values from the old end of the ring in batches and writes them through the
// BatchSink, one batch in flight at a time, each value leaving only once its write was stored
// (2.01). A batch goes when `batch` values wait, when the oldest has waited maxDelay, or when the
// next value would push the payload over its limit. Failed writes wait on the shared backoff;
// the drop count since the last report rides along with the next batch.
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import { payloadBytes, valueItemBytes } from "./batch-payload.js";
import type { BatchAttempt, BatchOutcome, BatchSink, BatchValue } from "./batch-sink.js";
import type { QueuedReport, ReportQueue } from "./report-queue.js";
import type { CompiledPlan } from "./sensor-binding.js";
import type { TelemetryConfig } from "./telemetry-config.js";
import type { ValueRing } from "./value-ring.js";

export interface UploaderOptions {
  readonly plan: CompiledPlan;
  readonly ring: ValueRing;
  /** The device's own reports, sent with the next batch (an urgent one makes a batch due at once). */
  readonly reports: ReportQueue;
  readonly sink: BatchSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** The first configuration; reconfigure() replaces it. */
  readonly config: TelemetryConfig;
}

export interface UploaderCounters {
  readonly sent: number;
  readonly batchesSent: number;
  readonly writeFailures: number;
  readonly rejected: number;
  /** Reports stored at the platform. */
  readonly reportsSent: number;
}

/** The batch being delivered: fixed once formed, so every attempt carries the same values. */
interface PinnedBatch {
  /** The sampled values, oldest first, then the drop report if any. Bounded by config.batch + 1. */
  readonly values: readonly BatchValue[];
  /** Sampled values in `values` (the drop report is not one). */
  readonly valueCount: number;
  /** The drop count this batch reports on the reserved key (0: no report item). */
  readonly droppedReported: number;
  /** The device's reports riding with it (their items come last in `values`). */
  readonly reports: readonly QueuedReport[];
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

export class Uploader {
  readonly #options: UploaderOptions;
  readonly #backoff: Backoff;
  #config: TelemetryConfig;
  #pinned: PinnedBatch | undefined;
  #sending = false;
  #droppedUnreported = 0;
  #flushTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #closed = false;
  #sent = 0;
  #batchesSent = 0;
  #writeFailures = 0;
  #rejected = 0;
  #reportsSent = 0;

  constructor(options: UploaderOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#backoff = new Backoff({ random: options.random, ...options.config.backoff });
  }

  get counters(): UploaderCounters {
    return {
      sent: this.#sent,
      batchesSent: this.#batchesSent,
      writeFailures: this.#writeFailures,
      rejected: this.#rejected,
      reportsSent: this.#reportsSent,
    };
  }

  /** Values held outside the ring: the batch in flight. */
  get inFlight(): number {
    return this.#pinned?.valueCount ?? 0;
  }

  get unreportedDrops(): number {
    return this.#droppedUnreported;
  }

  /** The sampler dropped a value to make room: reported with the next batch. */
  noteDropped(): void {
    this.#droppedUnreported++;
  }

  /**
   * Makes the next attempt now rather than wait out the backoff, which restarts from its first
   * step. Does nothing while a write is in flight or when no retry is pending.
   */
  retryNow(): void {
    if (this.#closed || this.#retryTimer === undefined) return;
    this.#cancel(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff.reset();
    this.pump();
  }

  /**
   * A new batch size or maxDelay, in force for the next batch formed: the one in flight stays as
   * it is, and waiting values are measured against the new triggers now.
   */
  reconfigure(config: TelemetryConfig): void {
    this.#config = config;
    this.pump();
  }

  close(): void {
    this.#closed = true;
    this.#cancel(this.#flushTimer);
    this.#cancel(this.#retryTimer);
    this.#flushTimer = undefined;
    this.#retryTimer = undefined;
  }

  /** Starts the next write if one may go now; otherwise makes sure a timer will come back. */
  pump(): void {
    if (this.#closed || this.#sending || this.#retryTimer !== undefined) return;
    if (this.#pinned === undefined && !this.#formBatchIfDue()) return;
    this.#send();
  }

  #cancel(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#options.clock.clearTimer(handle);
  }

  /**
   * What fits one payload: the drop report if one is due, the waiting reports that fit, then as
   * many of the oldest values as fit (at most `batch`). At least one value whenever the ring holds
   * any and no report was taken: MIN_PAYLOAD_BYTES fits the largest item and a drop report.
   */
  #fitting(): { readonly count: number; readonly reports: QueuedReport[] } {
    const { ring, reports } = this.#options;
    const config = this.#config;
    let items = 0;
    let bytes = 0;
    if (this.#droppedUnreported > 0) {
      items = 1;
      bytes = valueItemBytes(config.droppedKey, this.#droppedUnreported);
    }
    const taken: QueuedReport[] = [];
    for (const report of reports.entries) {
      if (payloadBytes(bytes + report.itemBytes, items + 1) > config.maxPayloadBytes) continue;
      bytes += report.itemBytes;
      items++;
      taken.push(report);
    }
    const limit = Math.min(config.batch, ring.size);
    let count = 0;
    while (count < limit) {
      const next = bytes + ring.itemBytes(count);
      if (payloadBytes(next, items + 1) > config.maxPayloadBytes) break;
      bytes = next;
      items++;
      count++;
    }
    return { count, reports: taken };
  }

  /**
   * Forms the next batch when a flush trigger holds: `batch` values waiting, the oldest waiting
   * for maxDelayMs, or the next value not fitting the payload limit. Otherwise arms the
   * maxDelay timer. Returns whether a batch was formed.
   */
  #formBatchIfDue(): boolean {
    const { ring, clock, plan, reports } = this.#options;
    const config = this.#config;
    this.#cancel(this.#flushTimer);
    this.#flushTimer = undefined;
    if (ring.size === 0 && reports.size === 0) return false;
    const { count, reports: taken } = this.#fitting();
    const now = clock.now();
    // Reports ride with the values and wait like them (maxDelay), unless one is urgent.
    let oldest = ring.size > 0 ? ring.at(0) : Number.POSITIVE_INFINITY;
    let urgent = false;
    for (const report of reports.entries) {
      oldest = Math.min(oldest, report.at);
      urgent ||= report.urgent;
    }
    const oldestDueAt = oldest + config.maxDelayMs;
    if (!urgent && count < config.batch && count === ring.size && now < oldestDueAt) {
      this.#flushTimer = clock.setTimer(() => {
        this.#flushTimer = undefined;
        this.pump();
      }, oldestDueAt - now);
      return false;
    }
    const values: BatchValue[] = [];
    for (let i = 0; i < count; i++) {
      const key = plan.keys[ring.keyIndex(i)]!;
      const utcSeconds = ring.utcSeconds(i);
      values.push(
        Number.isNaN(utcSeconds)
          ? { key, value: ring.value(i) }
          : { key, value: ring.value(i), datetime: utcSeconds * 1000 },
      );
    }
    const droppedReported = this.#droppedUnreported;
    if (droppedReported > 0) values.push({ key: config.droppedKey, value: droppedReported });
    for (const report of taken) {
      values.push(
        report.datetime === undefined
          ? { key: report.key, value: report.value }
          : { key: report.key, value: report.value, datetime: report.datetime },
      );
    }
    ring.dropOldest(count);
    this.#pinned = {
      values: Object.freeze(values),
      valueCount: count,
      droppedReported,
      reports: taken,
      retry: undefined,
    };
    return true;
  }

  #settleReports(batch: PinnedBatch): void {
    for (const report of batch.reports) this.#options.reports.settle(report);
  }

  #send(): void {
    const batch = this.#pinned!;
    this.#sending = true;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(this.#options.sink.send(batch.values, batch.retry));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (outcome) =>
        this.#settle(
          batch,
          isOutcome(outcome) ? outcome : { kind: "unavailable", reason: `sink answered ${describe(outcome)}` },
        ),
      (error: unknown) => this.#settle(batch, { kind: "unavailable", reason: `sink threw ${describe(error)}` }),
    );
  }

  #settle(batch: PinnedBatch, outcome: BatchOutcome): void {
    if (this.#closed) return;
    const { log, clock } = this.#options;
    this.#sending = false;
    if (outcome.kind === "stored") {
      if (this.#backoff.attempts > 0)
        log("info", `telemetry: writes go through again after ${this.#backoff.attempts} failed attempts`);
      this.#backoff.reset();
      this.#pinned = undefined;
      this.#sent += batch.valueCount;
      this.#batchesSent++;
      this.#droppedUnreported -= batch.droppedReported;
      this.#settleReports(batch);
      this.#reportsSent += batch.reports.length;
      this.pump();
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
        log("error", `telemetry: batch of ${batch.valueCount} values ${detail}: given up`);
        this.#pinned = undefined;
        this.#rejected += batch.valueCount;
        this.#settleReports(batch);
      }
    } else detail = `not sent: ${outcome.reason}`;
    this.#writeFailures++;
    const delay = this.#backoff.next();
    log(this.#backoff.attempts === 1 ? "warn" : "debug", `telemetry: write ${detail}; next attempt in ${delay} ms`);
    this.#retryTimer = clock.setTimer(() => {
      this.#retryTimer = undefined;
      this.pump();
    }, delay);
  }
}
