// The backlog: every value waiting to be stored at the platform, in sample order. Oldest first
// it holds the flash outbox (outbox.ts: values from earlier boots, then those that waited
// persistAfter in this one), the batch in flight, and the RAM ring (value-ring.ts) the sampler
// fills. The uploader takes its batches from the front and hands them back once stored.
//
// Persisting: when the oldest value not yet in flash (in the batch in flight or in the ring) has
// waited persistAfter, every such value moves to the outbox's pages in one go and the open page
// is written, so during an outage flash is written about once per persistAfter (more when pages
// fill) and, while the platform answers within persistAfter, never. Reports that waited as long
// get a page of their own. RAM full: the same move happens at once; only without an outbox (or
// with it unable to take more) does the ring drop its oldest value.
//
// Datetimes: a value sampled before the wall clock was set keeps its monotonic time; once the
// clock reads plausibly, every such value of this boot gets datetime = wall − (now − sampled),
// in the ring, in the outbox's pages and in the report queue, once (a later clock step changes
// nothing already stamped).
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import type { WallClock } from "../kernel/wall-clock.js";
import { formatCompactDate } from "../thethings/dates.js";
import { valueItemBytes } from "./batch-payload.js";
import type { BatchValue } from "./batch-sink.js";
import type { Outbox } from "./outbox.js";
import type { ReportQueue } from "./report-queue.js";
import type { CompiledPlan } from "./sensor-binding.js";
import type { TelemetryConfig } from "./telemetry-config.js";
import { isPlausibleUtc } from "./utc-datetime.js";
import type { ValueRing } from "./value-ring.js";

export interface BacklogOptions {
  readonly plan: CompiledPlan;
  readonly ring: ValueRing;
  /** The flash side; undefined where the target has no page store (values then live in RAM only). */
  readonly outbox: Outbox | undefined;
  readonly reports: ReportQueue;
  readonly clock: Clock;
  readonly wallClock: WallClock;
  readonly log: LogSink;
  /** The telemetry composing it: one object asked, rather than a closure kept per question. */
  readonly host: BacklogHost;
}

/** What the backlog asks of the telemetry that composes it. */
export interface BacklogHost {
  /** Read for bufferSize and persistAfterMs each time they are needed (reconfigure() replaces it). */
  readonly config: TelemetryConfig;
  /** Drops not yet reported to the platform (the uploader reports them). */
  readonly unreportedDrops: number;
  /** Values were dropped to make room: reported with the next batch. */
  noteDropped(count: number): void;
}

/** What a visit of the waiting values sees of each, oldest first; returning false ends the visit. */
export type WaitingVisitor = (itemBytes: number, stampable: boolean) => boolean;

/** The sampled values of a batch, taken from the front of the backlog. */
export interface TakenValues {
  readonly values: readonly BatchValue[];
  /** Values without a datetime that were sampled in this boot (they waited out holdUnstamped). */
  readonly unstamped: number;
  /** …and from an earlier boot, whose monotonic times cannot be turned into datetimes. */
  readonly unstampedEarlierBoot: number;
}

/** The batch in flight while there is none: one frozen array shared, not one per state change. */
const NOTHING_PINNED: readonly BatchValue[] = Object.freeze([]);

export class Backlog {
  readonly #options: BacklogOptions;
  /** The sampled values of the batch in flight, oldest first. Bound: one payload's worth. */
  #pinned: readonly BatchValue[] = NOTHING_PINNED;
  /** Their monotonic sample times (NaN for values from an earlier boot); none kept while no batch is in flight. */
  #pinnedAt: Float64Array | undefined;
  /** Pinned values from this index on live only in RAM; those before it are in the outbox. */
  #pinnedRamFrom = 0;
  #persistTimer: TimerHandle | undefined;
  /** A move to flash that left values or reports behind (outbox full and pinned, storage failing): retried then. */
  #persistBlockedUntil = Number.NEGATIVE_INFINITY;
  #clockKnown = false;
  /** Some value or report of this boot may lack the datetime the wall clock could now give it. */
  #mayNeedStamps = false;
  #dropped = 0;
  #discarded = 0;
  #closed = false;

  constructor(options: BacklogOptions) {
    this.#options = options;
  }

  /** Values waiting, not in the batch in flight. */
  get waiting(): number {
    const { outbox, ring } = this.#options;
    return (outbox === undefined ? 0 : outbox.size - outbox.pinned) + ring.size;
  }

  /** Values in the batch in flight. */
  get inFlight(): number {
    return this.#pinned.length;
  }

  /** Values held in RAM only (the ring and the unpersisted part of the batch in flight): bounded by bufferSize. */
  get inRam(): number {
    return this.#options.ring.size + this.#pinned.length - this.#pinnedRamFrom;
  }

  /** Dropped to make room: by the full ring, and by the full outbox. */
  get dropped(): number {
    return this.#dropped + (this.#options.outbox?.counters.dropped ?? 0);
  }

  /** Values erased by discard(). */
  get discarded(): number {
    return this.#discarded;
  }

  /** Whether the wall clock read plausibly when last asked (noticeClock). */
  get clockKnown(): boolean {
    return this.#clockKnown;
  }

  /** When the oldest waiting value was sampled (monotonic); −∞ for values in flash, +∞ when none wait. */
  oldestWaitingAt(): number {
    const { outbox, ring } = this.#options;
    if (outbox !== undefined && outbox.size > outbox.pinned) return Number.NEGATIVE_INFINITY;
    return ring.size > 0 ? ring.at(0) : Number.POSITIVE_INFINITY;
  }

  /**
   * Takes a sampled value into the ring. RAM full: what waits in RAM moves to flash first; if it
   * cannot, the oldest value in the ring goes (the batch in flight stays whole), counted.
   */
  push(keyIndex: number, value: number, utcSeconds: number, at: number, itemBytes: number): void {
    const { ring, log, host } = this.#options;
    const { bufferSize } = host.config;
    if (this.inRam >= bufferSize) {
      if (this.#options.clock.now() >= this.#persistBlockedUntil) this.persist();
      if (this.inRam >= bufferSize) {
        // Once per overflow: again only after every drop so far has been reported.
        if (host.unreportedDrops === 0)
          log("warn", `telemetry: buffer full (${bufferSize}): dropping the oldest values`);
        this.#dropped++;
        host.noteDropped(1);
        // The oldest value not in the batch in flight goes, which is this one when the batch fills RAM.
        if (ring.size === 0) return;
        ring.dropOldest();
      }
    }
    ring.push(keyIndex, value, utcSeconds, at, itemBytes);
    if (Number.isNaN(utcSeconds)) this.#mayNeedStamps = true;
    this.schedulePersist();
  }

  /** A report was made before the wall clock was set: it is stamped with the values. */
  noteUnstampedReport(): void {
    this.#mayNeedStamps = true;
    this.schedulePersist();
  }

  /**
   * Visits the waiting values oldest first with each one's item size in a write body (its
   * datetime included) and whether it lacks a datetime it could still get.
   */
  visitWaiting(visit: WaitingVisitor): void {
    const { outbox, ring } = this.#options;
    let going = true;
    outbox?.visit(outbox.pinned, (key, value, utcSeconds, stampable) => {
      const datetime = Number.isNaN(utcSeconds) ? undefined : formatCompactDate(utcSeconds * 1000);
      going = visit(valueItemBytes(key, value, datetime), stampable && datetime === undefined);
      return going;
    });
    for (let i = 0; going && i < ring.size; i++) going = visit(ring.itemBytes(i), Number.isNaN(ring.utcSeconds(i)));
  }

  /** The `count` oldest waiting values become the batch in flight. */
  take(count: number): TakenValues {
    const { outbox, ring, plan } = this.#options;
    const values: BatchValue[] = [];
    const at = new Float64Array(count);
    let unstamped = 0;
    let unstampedEarlierBoot = 0;
    const add = (key: string, value: number, utcSeconds: number, sampledAt: number, stampable: boolean): void => {
      at[values.length] = sampledAt;
      if (Number.isNaN(utcSeconds)) {
        values.push({ key, value });
        if (stampable) unstamped++;
        else unstampedEarlierBoot++;
      } else values.push({ key, value, datetime: utcSeconds * 1000 });
    };
    outbox?.visit(outbox.pinned, (key, value, utcSeconds, stampable, sampledAt) => {
      if (values.length >= count) return false;
      add(key, value, utcSeconds, sampledAt, stampable);
      return true;
    });
    const fromOutbox = values.length;
    outbox?.pin(fromOutbox);
    const fromRing = Math.min(count - fromOutbox, ring.size);
    for (let i = 0; i < fromRing; i++)
      add(plan.keys[ring.keyIndex(i)]!, ring.value(i), ring.utcSeconds(i), ring.at(i), true);
    ring.dropOldest(fromRing);
    this.#pinned = Object.freeze(values);
    this.#pinnedAt = at;
    this.#pinnedRamFrom = fromOutbox;
    return { values: this.#pinned, unstamped, unstampedEarlierBoot };
  }

  /** The batch in flight was stored or given up: its values leave, from flash too. */
  release(): void {
    this.#options.outbox?.ack();
    this.#pinned = NOTHING_PINNED;
    this.#pinnedAt = undefined;
    this.#pinnedRamFrom = 0;
    this.schedulePersist();
  }

  /** The reports waiting changed (stored, replaced): pages of those gone are erased. */
  syncReports(): void {
    const { outbox, reports } = this.#options;
    if (outbox === undefined) return;
    outbox.keepReports(reports.entries.map((report) => report.serial));
    this.schedulePersist();
  }

  /**
   * Reads the wall clock; the first time it reads plausibly after values of this boot went
   * without a datetime, stamps them all (ring, flash, reports). Returns whether it is known.
   */
  noticeClock(): boolean {
    const { wallClock, clock, ring, outbox, reports, plan } = this.#options;
    let utc: number | undefined;
    try {
      utc = wallClock.utcNow();
    } catch {
      utc = undefined;
    }
    this.#clockKnown = isPlausibleUtc(utc);
    if (!this.#clockKnown || !this.#mayNeedStamps) return this.#clockKnown;
    this.#mayNeedStamps = false;
    const offset = utc! - clock.now();
    for (let i = 0; i < ring.size; i++) {
      if (!Number.isNaN(ring.utcSeconds(i))) continue;
      const seconds = Math.floor((ring.at(i) + offset) / 1000);
      if (!isPlausibleUtc(seconds * 1000)) continue;
      ring.stamp(
        i,
        seconds,
        valueItemBytes(plan.keys[ring.keyIndex(i)]!, ring.value(i), formatCompactDate(seconds * 1000)),
      );
    }
    outbox?.stamp(offset);
    reports.stamp(offset);
    return true;
  }

  /** Drops everything waiting, in RAM and in flash (the device was forgotten). Returns how many values. */
  discard(): number {
    const { ring, outbox } = this.#options;
    const count = this.waiting + this.#pinned.length;
    ring.dropOldest(ring.size);
    outbox?.clear();
    this.#pinned = NOTHING_PINNED;
    this.#pinnedAt = undefined;
    this.#pinnedRamFrom = 0;
    this.#discarded += count;
    this.cancelPersist();
    return count;
  }

  close(): void {
    this.#closed = true;
    this.cancelPersist();
  }

  /** The monotonic time of the oldest value or report not yet in flash, or +∞. */
  private oldestUnpersistedAt(): number {
    const { ring, reports, outbox } = this.#options;
    let oldest =
      this.#pinnedRamFrom < this.#pinned.length ? this.#pinnedAt![this.#pinnedRamFrom]! : Number.POSITIVE_INFINITY;
    if (ring.size > 0) oldest = Math.min(oldest, ring.at(0));
    for (const report of reports.entries) if (!outbox!.holdsReport(report.serial)) oldest = Math.min(oldest, report.at);
    return oldest;
  }

  /** persistAfter changed (Telemetry.reconfigure): the wait for the flash is measured against the new value now. */
  persistAfterChanged(): void {
    this.cancelPersist();
    this.schedulePersist();
  }

  private schedulePersist(): void {
    const { outbox, clock } = this.#options;
    if (this.#closed || outbox === undefined || outbox.capacity === 0 || this.#persistTimer !== undefined) return;
    const oldest = this.oldestUnpersistedAt();
    if (oldest === Number.POSITIVE_INFINITY) return;
    const dueAt = Math.max(oldest + this.#options.host.config.persistAfterMs, this.#persistBlockedUntil);
    this.#persistTimer = clock.setTimer(
      () => {
        this.#persistTimer = undefined;
        if (clock.now() >= this.oldestUnpersistedAt() + this.#options.host.config.persistAfterMs) this.persist();
        this.schedulePersist();
      },
      Math.max(0, dueAt - clock.now()),
    );
  }

  private cancelPersist(): void {
    if (this.#persistTimer !== undefined) this.#options.clock.clearTimer(this.#persistTimer);
    this.#persistTimer = undefined;
  }

  /**
   * Moves every value waiting in RAM to the outbox, oldest first, writes the open page, and gives
   * the reports due a page each. What cannot go now is tried again persistAfter later, not sooner.
   */
  private persist(): void {
    const { outbox, ring, plan, reports, clock } = this.#options;
    if (outbox === undefined || outbox.capacity === 0) return;
    const { persistAfterMs } = this.#options.host.config;
    const errorsBefore = outbox.counters.storeErrors;
    // The batch in flight first: its values are older than the ring's and it may be retried for long.
    while (this.#pinnedRamFrom < this.#pinned.length) {
      const value = this.#pinned[this.#pinnedRamFrom]!;
      const utcSeconds = value.datetime === undefined ? Number.NaN : value.datetime / 1000;
      if (!outbox.append(value.key, value.value as number, utcSeconds, this.#pinnedAt![this.#pinnedRamFrom]!)) break;
      // Every value in the outbox is in this batch now (it took them all before these): still pinned.
      outbox.pin(outbox.pinned + 1);
      this.#pinnedRamFrom++;
    }
    if (this.#pinnedRamFrom === this.#pinned.length) {
      while (ring.size > 0) {
        if (!outbox.append(plan.keys[ring.keyIndex(0)]!, ring.value(0), ring.utcSeconds(0), ring.at(0))) break;
        ring.dropOldest();
      }
    }
    outbox.flush();
    const now = clock.now();
    let blocked = this.inRam > 0 || outbox.counters.storeErrors > errorsBefore;
    for (const report of reports.entries) {
      if (report.at > now - persistAfterMs || outbox.holdsReport(report.serial)) continue;
      const utcSeconds = report.datetime === undefined ? Number.NaN : report.datetime / 1000;
      if (!outbox.putReport(report.serial, { key: report.key, value: report.value, utcSeconds, at: report.at }))
        blocked = true;
    }
    this.#persistBlockedUntil = blocked ? now + persistAfterMs : Number.NEGATIVE_INFINITY;
  }
}
