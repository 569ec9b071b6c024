// The uploader: takes values from the front of the backlog (backlog.ts: flash, then RAM) in
// batches and writes them through the BatchSink, one batch in flight at a time, each value
// leaving only once its write was stored (2.01). A batch goes when `batch` values wait, when the
// oldest has waited maxDelay, or when the next value would push the payload over its limit; while
// more than one batch waits, each write carries as many values as fit the payload. Values that
// still lack a datetime the wall clock could give them wait for it up to holdUnstamped after the
// platform's first answer. Failed writes wait on the shared backoff; the drop count since the
// last report rides along with the next batch.
import { Backoff } from "../kernel/backoff.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { RandomSource } from "../kernel/random.js";
import type { Backlog } from "./backlog.js";
import { payloadBytes, valueItemBytes } from "./batch-payload.js";
import type { BatchAttempt, BatchOutcome, BatchSink, BatchValue } from "./batch-sink.js";
import type { QueuedReport, ReportQueue } from "./report-queue.js";
import type { TelemetryConfig } from "./telemetry-config.js";

export interface UploaderOptions {
  readonly backlog: Backlog;
  /** The device's own reports, sent with the next batch (an urgent one makes a batch due at once). */
  readonly reports: ReportQueue;
  readonly sink: BatchSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** The telemetry composing it: one object asked, rather than a closure kept. */
  readonly host: UploaderHost;
}

/** What the uploader asks of the telemetry that composes it. */
export interface UploaderHost {
  /** Read for batch, maxDelayMs, maxPayloadBytes, holdUnstampedMs … each time they are needed. */
  readonly config: TelemetryConfig;
}

export interface UploaderCounters {
  readonly sent: number;
  /** Values stored without a datetime: of this boot after holdUnstamped, and of an earlier boot. */
  readonly unstamped: number;
  readonly unstampedEarlierBoot: number;
  readonly batchesSent: number;
  readonly writeFailures: number;
  readonly rejected: number;
  /** Reports stored at the platform. */
  readonly reportsSent: number;
}

/** The batch being delivered: fixed once formed, so every attempt carries the same values. */
interface PinnedBatch {
  /** The sampled values, oldest first, then the drop report and the reports. Bound: one payload. */
  readonly values: readonly BatchValue[];
  /** Sampled values in `values` (the drop report is not one). */
  readonly valueCount: number;
  /** The drop count this batch reports on the reserved key (0: no report item). */
  readonly droppedReported: number;
  /** The device's reports riding with it (their items come last in `values`). */
  readonly reports: readonly QueuedReport[];
  readonly unstamped: number;
  readonly unstampedEarlierBoot: number;
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

/**
 * The drop count rides in the first write with room for it after its values; a backlog drained
 * at capacity has none, so past this since the first drop not yet reported it goes first.
 */
export const DROP_REPORT_MAX_WAIT_MS = 60_000;

/** What fits the next write. */
interface Fit {
  /** Sampled values, from the front of the backlog. */
  readonly count: number;
  /** The drop count it reports (0: no drop report in it). */
  readonly dropReported: number;
  readonly reports: QueuedReport[];
  /** The next value did not fit the payload. */
  readonly full: boolean;
  /** The next value waits for the wall clock (holdUnstamped). */
  readonly held: boolean;
  /** The oldest report that may go now, and whether one of them is urgent. */
  readonly oldestReportAt: number;
  readonly urgent: boolean;
}

function isOutcome(value: unknown): value is BatchOutcome {
  if (value === null || typeof value !== "object") return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === "stored" || kind === "unanswered" || kind === "refused" || kind === "unavailable";
}

export class Uploader {
  readonly #options: UploaderOptions;
  /**
   * The retry delays: made at the first failed write and let go at the next stored one, so that
   * nothing of it is kept while writes go through (a new one starts where reset() would).
   */
  #backoff: Backoff | undefined;
  #pinned: PinnedBatch | undefined;
  #sending = false;
  #droppedUnreported = 0;
  /** When the oldest drop not yet reported happened. */
  #unreportedSince = 0;
  #flushTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #closed = false;
  /** When the platform first answered in this boot: holdUnstamped counts from here. */
  #firstAnswerAt: number | undefined;
  #sent = 0;
  #unstamped = 0;
  #unstampedEarlierBoot = 0;
  #batchesSent = 0;
  #writeFailures = 0;
  #rejected = 0;
  #reportsSent = 0;

  constructor(options: UploaderOptions) {
    this.#options = options;
    // The settings are checked now (the constructor throws RangeError for a bad one), not at the first failure.
    this.newBackoff();
  }

  get counters(): UploaderCounters {
    return {
      sent: this.#sent,
      unstamped: this.#unstamped,
      unstampedEarlierBoot: this.#unstampedEarlierBoot,
      batchesSent: this.#batchesSent,
      writeFailures: this.#writeFailures,
      rejected: this.#rejected,
      reportsSent: this.#reportsSent,
    };
  }

  get unreportedDrops(): number {
    return this.#droppedUnreported;
  }

  /** Values were dropped to make room: reported with the next batch. */
  noteDropped(count: number): void {
    if (this.#droppedUnreported === 0) this.#unreportedSince = this.#options.clock.now();
    this.#droppedUnreported += count;
  }

  /**
   * The platform answered (a write here, or the subscription): values waiting for the wall clock
   * wait holdUnstamped more at most.
   */
  notePlatformAnswered(): void {
    if (this.#firstAnswerAt !== undefined || this.#closed) return;
    this.#firstAnswerAt = this.#options.clock.now();
    if (!this.#sending && this.#retryTimer === undefined) this.pump();
  }

  /**
   * Forgets the batch in flight (its answer, when it comes, changes nothing) and the drops not yet
   * reported: everything buffered was discarded.
   */
  discard(): void {
    this.#pinned = undefined;
    this.#droppedUnreported = 0;
    this.cancel(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff = undefined;
  }

  /**
   * Makes the next attempt now rather than wait out the backoff, which restarts from its first
   * step. Does nothing while a write is in flight or when no retry is pending.
   */
  retryNow(): void {
    if (this.#closed || this.#retryTimer === undefined) return;
    this.cancel(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#backoff = undefined;
    this.pump();
  }

  /**
   * The configuration changed (a new batch size or maxDelay, read through the host from now on):
   * the batch in flight stays as it is, and waiting values are measured against the new triggers now.
   */
  configChanged(): void {
    this.pump();
  }

  close(): void {
    this.#closed = true;
    this.cancel(this.#flushTimer);
    this.cancel(this.#retryTimer);
    this.#flushTimer = undefined;
    this.#retryTimer = undefined;
  }

  /** Starts the next write if one may go now; otherwise makes sure a timer will come back. */
  pump(): void {
    if (this.#closed || this.#sending || this.#retryTimer !== undefined) return;
    if (this.#pinned === undefined && !this.formBatchIfDue()) return;
    this.send();
  }

  private newBackoff(): Backoff {
    return new Backoff({ random: this.#options.random, ...this.#options.host.config.backoff });
  }

  private cancel(handle: TimerHandle | undefined): void {
    if (handle !== undefined) this.#options.clock.clearTimer(handle);
  }

  /** Values sampled before the wall clock was set wait for it: until holdUnstamped after the first answer. */
  private holding(now: number): boolean {
    const { holdUnstampedMs } = this.#options.host.config;
    if (holdUnstampedMs === 0 || this.#options.backlog.clockKnown) return false;
    return this.#firstAnswerAt === undefined || now < this.#firstAnswerAt + holdUnstampedMs;
  }

  /**
   * What fits one payload: the waiting reports that fit, then as many of the oldest values as
   * fit (at most `batch`, or all that fit while more than one batch waits: drainAtCapacity), then
   * the drop count if it still fits; a drop count waiting DROP_REPORT_MAX_WAIT_MS goes first
   * instead. At least one value whenever any waits, none is held and no report was taken:
   * MIN_PAYLOAD_BYTES fits the largest item and a drop report.
   */
  private fitting(holding: boolean): Fit {
    const { backlog, reports, clock } = this.#options;
    const config = this.#options.host.config;
    let items = 0;
    let bytes = 0;
    const dropped = this.#droppedUnreported;
    const dropBytes = dropped > 0 ? valueItemBytes(config.droppedKey, dropped) : 0;
    const dropFirst = dropped > 0 && clock.now() - this.#unreportedSince >= DROP_REPORT_MAX_WAIT_MS;
    if (dropFirst) {
      items = 1;
      bytes = dropBytes;
    }
    const taken: QueuedReport[] = [];
    let oldestReportAt = Number.POSITIVE_INFINITY;
    let urgent = false;
    for (const report of reports.entries) {
      if (holding && report.stampable) continue;
      oldestReportAt = Math.min(oldestReportAt, report.at);
      urgent ||= report.urgent;
      if (payloadBytes(bytes + report.itemBytes, items + 1) > config.maxPayloadBytes) continue;
      bytes += report.itemBytes;
      items++;
      taken.push(report);
    }
    const waiting = backlog.waiting;
    const limit = config.drainAtCapacity && waiting > config.batch ? waiting : Math.min(config.batch, waiting);
    let count = 0;
    let full = false;
    let held = false;
    backlog.visitWaiting((itemBytes, stampable) => {
      if (count >= limit) return false;
      if (holding && stampable) {
        held = true;
        return false;
      }
      if (payloadBytes(bytes + itemBytes, items + 1) > config.maxPayloadBytes) {
        full = true;
        return false;
      }
      bytes += itemBytes;
      items++;
      count++;
      return true;
    });
    // Otherwise the drop count takes the room the values left (MIN_PAYLOAD_BYTES fits it beside the largest value).
    const dropReported =
      dropFirst || (dropped > 0 && payloadBytes(bytes + dropBytes, items + 1) <= config.maxPayloadBytes) ? dropped : 0;
    return { count, dropReported, reports: taken, full, held, oldestReportAt, urgent };
  }

  private armFlushTimer(dueAt: number): void {
    const { clock } = this.#options;
    if (dueAt === Number.POSITIVE_INFINITY) return;
    this.#flushTimer = clock.setTimer(
      () => {
        this.#flushTimer = undefined;
        this.pump();
      },
      Math.max(0, dueAt - clock.now()),
    );
  }

  /**
   * Forms the next batch when a flush trigger holds: `batch` values waiting, the oldest waiting
   * for maxDelayMs, the next value not fitting the payload limit, values from flash (they waited
   * long already), an urgent report. Otherwise arms a timer for the trigger or the hold's end.
   * Returns whether a batch was formed.
   */
  private formBatchIfDue(): boolean {
    const { backlog, clock, reports } = this.#options;
    const config = this.#options.host.config;
    this.cancel(this.#flushTimer);
    this.#flushTimer = undefined;
    backlog.noticeClock();
    if (backlog.waiting === 0 && reports.size === 0) return false;
    const now = clock.now();
    const holding = this.holding(now);
    const holdEndsAt =
      holding && this.#firstAnswerAt !== undefined
        ? this.#firstAnswerAt + config.holdUnstampedMs
        : Number.POSITIVE_INFINITY;
    const fit = this.fitting(holding);
    if (fit.count === 0 && fit.reports.length === 0) {
      // Everything waits for the wall clock: the hold's end (or the first answer, or the clock) brings it.
      this.armFlushTimer(holdEndsAt);
      return false;
    }
    const oldest = Math.min(fit.count > 0 ? backlog.oldestWaitingAt() : Number.POSITIVE_INFINITY, fit.oldestReportAt);
    const dueAt = oldest + config.maxDelayMs;
    if (!fit.urgent && !fit.full && fit.count < config.batch && now < dueAt) {
      this.armFlushTimer(fit.held ? Math.min(dueAt, holdEndsAt) : dueAt);
      return false;
    }
    const taken = backlog.take(fit.count);
    const values: BatchValue[] = taken.values.slice();
    const droppedReported = fit.dropReported;
    if (droppedReported > 0) values.push({ key: config.droppedKey, value: droppedReported });
    for (const report of fit.reports) {
      values.push(
        report.datetime === undefined
          ? { key: report.key, value: report.value }
          : { key: report.key, value: report.value, datetime: report.datetime },
      );
    }
    this.#pinned = {
      values: Object.freeze(values),
      valueCount: fit.count,
      droppedReported,
      reports: fit.reports,
      unstamped: taken.unstamped,
      unstampedEarlierBoot: taken.unstampedEarlierBoot,
      retry: undefined,
    };
    return true;
  }

  private settleReports(batch: PinnedBatch): void {
    for (const report of batch.reports) this.#options.reports.settle(report);
    this.#options.backlog.syncReports();
  }

  private send(): void {
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
        this.settle(
          batch,
          isOutcome(outcome) ? outcome : { kind: "unavailable", reason: `sink answered ${describe(outcome)}` },
        ),
      (error: unknown) => this.settle(batch, { kind: "unavailable", reason: `sink threw ${describe(error)}` }),
    );
  }

  private settle(batch: PinnedBatch, outcome: BatchOutcome): void {
    if (this.#closed) return;
    const { log, clock, backlog } = this.#options;
    this.#sending = false;
    if (outcome.kind === "stored" || outcome.kind === "refused") this.#firstAnswerAt ??= clock.now();
    if (batch !== this.#pinned) {
      // Discarded while in flight: nothing of it is buffered any more.
      this.pump();
      return;
    }
    if (outcome.kind === "stored") {
      if (this.#backoff !== undefined && this.#backoff.attempts > 0)
        log("info", `telemetry: writes go through again after ${this.#backoff.attempts} failed attempts`);
      this.#backoff = undefined;
      this.#pinned = undefined;
      backlog.release();
      this.#sent += batch.valueCount;
      this.#unstamped += batch.unstamped;
      this.#unstampedEarlierBoot += batch.unstampedEarlierBoot;
      this.#batchesSent++;
      this.#droppedUnreported -= batch.droppedReported;
      // Drops made while this batch was on its way wait from now on.
      if (batch.droppedReported > 0) this.#unreportedSince = clock.now();
      this.settleReports(batch);
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
        backlog.release();
        this.#rejected += batch.valueCount;
        this.settleReports(batch);
      }
    } else detail = `not sent: ${outcome.reason}`;
    this.#writeFailures++;
    const backoff = (this.#backoff ??= this.newBackoff());
    const delay = backoff.next();
    log(backoff.attempts === 1 ? "warn" : "debug", `telemetry: write ${detail}; next attempt in ${delay} ms`);
    this.#retryTimer = clock.setTimer(() => {
      this.#retryTimer = undefined;
      this.pump();
    }, delay);
  }
}
