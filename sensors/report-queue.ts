// Reports: JSON objects the device writes about itself (device.boot, device.health,
// device.settings) beside its numeric readings. The value ring holds numbers only, so reports
// wait here: one per key, the newest wins (a report says how things are now; an older one
// waiting behind it says nothing more). Each goes with the next batch and leaves only once
// that batch was stored, unless a newer one for its key arrived meanwhile: that one stays.
import { utf8Length } from "../kernel/utf8.js";
import { formatCompactDate } from "../thethings/dates.js";
import { isValidKey, type JsonObjectValue, writeValueProblem } from "../thethings/values.js";
import { valueItemBytes } from "./batch-payload.js";

/** A report waiting, or in the batch in flight. */
export interface QueuedReport {
  readonly key: string;
  readonly value: JsonObjectValue;
  /** When it was made, UTC ms (whole seconds), or undefined while the wall clock is not set. */
  readonly datetime: number | undefined;
  /** Bytes of its JSON item in a write body. */
  readonly itemBytes: number;
  /** Monotonic time it was queued: like a value's, for maxDelay. */
  readonly at: number;
  /** Makes a batch due at once instead of riding with the next one. */
  readonly urgent: boolean;
  /**
   * Made in this boot before the wall clock was set: gets its datetime once the clock is known
   * (a report restored from an earlier boot cannot: its monotonic time means nothing now).
   */
  readonly stampable: boolean;
  /** Which put() made it: a later put() for the same key replaces it. */
  readonly serial: number;
}

export class ReportQueue {
  /** Distinct report keys at once: device.boot, device.health, device.settings and one spare. */
  static readonly MAX_REPORTS = 4;
  /** Bound: MAX_REPORTS entries, each at most MAX_OBJECT_VALUE_BYTES of JSON (thethings/values.ts). */
  readonly #reports: QueuedReport[] = [];
  readonly #maxItemBytes: number;
  #serial = 0;
  #replaced = 0;

  /** `maxItemBytes`: the largest item a write can carry beside the frame and a drop report. */
  constructor(maxItemBytes: number) {
    this.#maxItemBytes = maxItemBytes;
  }

  get size(): number {
    return this.#reports.length;
  }

  /** Reports that a newer one for the same key replaced before they were stored. */
  get replaced(): number {
    return this.#replaced;
  }

  /** The reports waiting, oldest first (the caller must not keep the array). */
  get entries(): readonly QueuedReport[] {
    return this.#reports;
  }

  /**
   * Queues `value` on `key` (made at monotonic time `at`), replacing a report waiting there.
   * Returns why it cannot be sent (bad key, not plain JSON, too large, too many keys), or
   * undefined when it was queued.
   */
  put(
    key: string,
    value: JsonObjectValue,
    datetime: number | undefined,
    at: number,
    urgent: boolean,
    stampable = datetime === undefined,
  ): string | undefined {
    if (!isValidKey(key)) return `report key ${JSON.stringify(String(key).slice(0, 40))} is not a thing key`;
    const problem = writeValueProblem({ key, value });
    if (problem !== undefined) return problem;
    // A private copy: the caller's object may change after it is queued.
    const text = JSON.stringify(value);
    const copy = JSON.parse(text) as JsonObjectValue;
    const itemBytes = valueItemBytes(key, copy, datetime === undefined ? undefined : formatCompactDate(datetime));
    if (itemBytes > this.#maxItemBytes) return `report ${key} takes ${utf8Length(text)} bytes: too large for one write`;
    const waiting = this.#reports.findIndex((report) => report.key === key);
    if (waiting < 0 && this.#reports.length >= ReportQueue.MAX_REPORTS) {
      return `already ${ReportQueue.MAX_REPORTS} report keys waiting`;
    }
    const report: QueuedReport = Object.freeze({
      key,
      value: copy,
      datetime,
      itemBytes,
      at,
      urgent,
      stampable: stampable && datetime === undefined,
      serial: ++this.#serial,
    });
    if (waiting < 0) this.#reports.push(report);
    else {
      this.#replaced++;
      this.#reports.splice(waiting, 1);
      this.#reports.push(report);
    }
    return undefined;
  }

  /** The serial of the report waiting on `key`, or −1. */
  serialOf(key: string): number {
    return this.#reports.find((report) => report.key === key)?.serial ?? -1;
  }

  /**
   * Back-fills the datetime of every stampable report: UTC of (made-at + offsetMs), offsetMs being
   * the wall clock's lead on the monotonic clock. One that would then be too large stays without.
   */
  stamp(offsetMs: number): void {
    this.#reports.forEach((report, i) => {
      if (!report.stampable) return;
      const datetime = Math.floor((report.at + offsetMs) / 1000) * 1000;
      const itemBytes = valueItemBytes(report.key, report.value, formatCompactDate(datetime));
      if (itemBytes > this.#maxItemBytes) return;
      this.#reports[i] = Object.freeze({ ...report, datetime, itemBytes, stampable: false });
    });
  }

  /** The batch carrying `report` was stored (or given up): it leaves, unless a newer one replaced it. */
  settle(report: QueuedReport): void {
    const at = this.#reports.findIndex((queued) => queued.serial === report.serial);
    if (at >= 0) this.#reports.splice(at, 1);
  }

  /** Drops every report (the device was forgotten, or is closing). */
  clear(): void {
    this.#reports.length = 0;
  }
}
