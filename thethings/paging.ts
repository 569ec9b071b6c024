// Reading more than one read's worth (100 values [doc]) of a key's history, newest first, by
// paging backwards as the platform's libraries do [lib]: read, set endDate to the oldest
// returned item's datetime, read again, and drop what the previous page already returned.
//
// The boundary is inclusive on the platform (the documented "max date"), and endDate travels in
// whole seconds (YYYYMMDDHHmmss) while reads may return milliseconds. So endDate is the oldest
// datetime rounded up to its second: every value not yet returned is at or before it, and the
// values of that second returned before come back again and are dropped as duplicates, counted
// as a multiset so that two equal values stored at one instant both survive.
import type { ReadOptions } from "./client.js";
import { READ_LIMIT_MAX } from "./client.js";
import type { ThingValue } from "./values.js";

/** What readHistory needs: ThethingsClient.read. */
export interface ValueReader {
  read(key: string, options?: ReadOptions): Promise<ThingValue[]>;
}

export interface HistoryOptions {
  /** Stop after this many values: the bound on the memory the result takes. */
  readonly maxValues: number;
  /** Values per read, 1–100 (default 100). */
  readonly pageLimit?: number;
  readonly startDate?: number;
  readonly endDate?: number;
}

export interface History {
  /** Newest first, at most maxValues, no value twice. */
  readonly values: ThingValue[];
  /**
   * True when the platform has no older value in the range. False when maxValues stopped the
   * walk, or it could not go further: an item without a datetime, or more than pageLimit values
   * within one second (a whole page of values already returned).
   */
  readonly complete: boolean;
}

export async function readHistory(reader: ValueReader, key: string, options: HistoryOptions): Promise<History> {
  const { maxValues, startDate } = options;
  const pageLimit = options.pageLimit ?? READ_LIMIT_MAX;
  if (!Number.isInteger(maxValues) || maxValues < 1)
    throw new RangeError(`maxValues must be a positive whole number, got ${maxValues}`);
  if (!Number.isInteger(pageLimit) || pageLimit < 1 || pageLimit > READ_LIMIT_MAX) {
    throw new RangeError(`pageLimit must be 1–${READ_LIMIT_MAX}, got ${pageLimit}`);
  }
  const values: ThingValue[] = [];
  let endDate = options.endDate;
  let alreadyReturned = new Map<string, number>();
  for (;;) {
    const page = await reader.read(key, { limit: pageLimit, startDate, endDate });
    let fresh = 0;
    let oldest = Infinity;
    let undated = false;
    for (const value of page) {
      if (value.datetime === undefined) undated = true;
      else if (endDate !== undefined && value.datetime > endDate)
        continue; // outside the range asked for
      else if (value.datetime < oldest) oldest = value.datetime;
      const identity = identityOf(value);
      const seen = alreadyReturned.get(identity) ?? 0;
      if (seen > 0) {
        alreadyReturned.set(identity, seen - 1);
        continue;
      }
      fresh++;
      values.push(value);
      if (values.length === maxValues) return { values, complete: false };
    }
    if (page.length < pageLimit) return { values, complete: true };
    if (fresh === 0 || undated || oldest === Infinity) return { values, complete: false };
    endDate = Math.ceil(oldest / 1000) * 1000;
    alreadyReturned = returnedSince(values, oldest, endDate);
  }
}

/** The values collected so far whose datetime lies in [from, to]: what the next page may repeat. */
function returnedSince(values: readonly ThingValue[], from: number, to: number): Map<string, number> {
  const counts = new Map<string, number>();
  // Newest first, so the candidates sit at the end; bounded by maxValues.
  for (let i = values.length - 1; i >= 0; i--) {
    const value = values[i]!;
    const datetime = value.datetime!;
    if (datetime > to) break;
    if (datetime < from) continue;
    const identity = identityOf(value);
    counts.set(identity, (counts.get(identity) ?? 0) + 1);
  }
  return counts;
}

function identityOf(value: ThingValue): string {
  return `${value.datetime ?? ""}|${safeJson(value.value)}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}
